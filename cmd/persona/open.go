package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/mattn/go-isatty"

	"github.com/spf13/pflag"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack"
	"github.com/persona-workbench/persona/engine/store"
)

// source is a package to open on the analyst's side: verified, decrypted
// in memory and loaded, never read from a plaintext file.
type source struct {
	path        string
	providerKey string
	workspace   string
	threads     int
	memoryLimit string
	// ws, when set, is used instead of resolving --workspace (the demo's
	// throwaway workspace).
	ws *keys.Workspace
}

func (s *source) flags(fs *pflag.FlagSet) {
	fs.StringVar(&s.providerKey, "provider-key", "", "the licensor's provider.pub (besides keys trusted with `persona trust`)")
	workspaceFlag(fs, &s.workspace)
	fs.IntVar(&s.threads, "threads", 0, "DuckDB worker threads (default: one per core)")
	fs.StringVar(&s.memoryLimit, "memory-limit", "", "DuckDB memory cap such as 4GB (default: 80% of RAM)")
}

func (s *source) open(ctx context.Context) (*pack.Opened, error) {
	ws := s.ws
	if ws == nil {
		var err error
		if ws, err = openWorkspace(s.workspace, false); err != nil {
			return nil, err
		}
	}
	trusted, err := trustedKeys(ws, s.providerKey)
	if err != nil {
		return nil, err
	}
	p := newProgress()
	defer p.done()
	o, err := pack.Open(ctx, s.path, pack.OpenOptions{
		Trusted: trusted,
		Identity: func(l *licence.Licence) (*age.X25519Identity, error) {
			p.pause()
			defer p.resume()
			return ws.Identity(l.ID, passphrase("passphrase for licence "+l.ID, false))
		},
		Store: store.Options{Threads: s.threads, MemoryLimit: s.memoryLimit},
		Progress: func(stage string, done, total int64) {
			switch stage {
			case "verify":
				p.show(bar("verifying", done, total))
			case "decrypt":
				p.show(bar("decrypting", done, total))
			case "load":
				p.show(fmt.Sprintf("loading: part %d of %d", done, total))
			}
		},
	})
	if err != nil {
		return nil, packageHint(err)
	}
	return o, nil
}

// lang picks the interface language: --lang, else the locale.
func lang(flag string) (string, error) {
	switch flag {
	case "zh", "zh-CN", "en":
		return flag[:2], nil
	case "":
	default:
		return "", withHint(fmt.Errorf("unknown language %q", flag), "use --lang zh or --lang en")
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if strings.HasPrefix(l, "zh") {
				return "zh", nil
			}
			return "en", nil
		}
	}
	return "en", nil
}

// progress shows one line of progress on stderr, rewritten in place, when
// stderr is a terminal; elsewhere it stays silent.
type progress struct {
	on     bool
	mu     sync.Mutex
	start  time.Time // nothing is shown for work that ends within a moment
	last   time.Time
	shown  bool
	paused bool
}

// pause clears the line and holds it back, while a prompt uses the
// terminal.
func (p *progress) pause() {
	p.done()
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

func (p *progress) resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
}

func newProgress() *progress {
	return &progress{on: isatty.IsTerminal(os.Stderr.Fd()), start: time.Now()}
}

func (p *progress) show(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || p.paused || time.Since(p.start) < 300*time.Millisecond || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(os.Stderr, "\r\x1b[K%s", line)
}

// done clears the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(os.Stderr, "\r\x1b[K")
		p.shown = false
	}
}
