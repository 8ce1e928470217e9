package tui

import "github.com/charmbracelet/lipgloss"

// styles holds every colour and style of the interface. They are built
// from a renderer, whose colour profile follows the terminal and NO_COLOR.
type styles struct {
	Title, Subtle, Selected, Cursor, Focused, Pane lipgloss.Style
	Bar, Withheld, Error, Status, Header           lipgloss.Style
	// Heat colours the heatmap's bands, lowest first; the bands' glyphs
	// differ too, so they read without colour.
	Heat [4]lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	accent := lipgloss.AdaptiveColor{Light: "#1f6feb", Dark: "#58a6ff"}
	subtle := lipgloss.AdaptiveColor{Light: "#6e7781", Dark: "#8b949e"}
	warn := lipgloss.AdaptiveColor{Light: "#9a6700", Dark: "#d29922"}
	bad := lipgloss.AdaptiveColor{Light: "#cf222e", Dark: "#f85149"}
	return styles{
		Title:    r.NewStyle().Bold(true).Foreground(accent),
		Subtle:   r.NewStyle().Foreground(subtle),
		Selected: r.NewStyle().Bold(true),
		Cursor:   r.NewStyle().Reverse(true),
		Focused:  r.NewStyle().Bold(true).Foreground(accent),
		Pane:     r.NewStyle().Foreground(subtle),
		Bar:      r.NewStyle().Foreground(accent),
		Withheld: r.NewStyle().Foreground(warn).Italic(true),
		Error:    r.NewStyle().Foreground(bad),
		Status:   r.NewStyle().Reverse(true),
		Header:   r.NewStyle().Bold(true),
		Heat: [4]lipgloss.Style{
			r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#9ecbff", Dark: "#1f4f8f"}),
			r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#58a6ff", Dark: "#2f6fbf"}),
			r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#1f6feb", Dark: "#58a6ff"}),
			r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#0a3069", Dark: "#a5d6ff"}),
		},
	}
}
