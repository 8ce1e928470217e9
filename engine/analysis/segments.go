package analysis

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// SegmentOptions describe a segmentation run.
type SegmentOptions struct {
	// Dims are the dimensions people are grouped by (single- or
	// multi-valued); by default gender, age band, city tier, member
	// level, purchase frequency and preferred categories, where the
	// inventory has them (see DefaultSegmentDims).
	Dims []string
	// K is the number of segments; 0 chooses it between MinK and MaxK
	// by the silhouette.
	K          int
	MinK, MaxK int // defaults 2 and 8
	Filters    map[string][]string
	// Progress, if set, is told how many of the run's steps are done.
	Progress func(done, total int)
}

// ModelSample is the most records a segmentation or classification is
// fitted on: a larger data set is sampled (the same records each time).
// A quarter of a million people fix a model's few dozen parameters, and
// leaves of 1%, far more finely than the shown figures need, and keep
// the profiles — nearly one per person with both lists — small enough
// to fit in seconds.
// What is shown about segments and leaves is counted over every record.
const ModelSample = 250_000

// DefaultSegmentDims are the dimensions a segmentation uses unless told
// otherwise, those the inventory has: who people are, how they buy and
// what they like.
var DefaultSegmentDims = []string{"gender", "age_band", "city_tier", "member_level", "purchase_frequency", "categories"}

// KChoice is how well one number of segments fits.
type KChoice struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"` // -1..1, higher is better separated
	Inertia    float64 `json:"inertia"`    // mean squared distance to the segment's centre
}

// Trait is one value of a dimension in one segment.
type Trait struct {
	Dim   string  `json:"dim"`
	Value string  `json:"value"`
	Share float64 `json:"share"` // of the segment's people who have the value
	// Index is Share over the value's share of the whole population,
	// times 100: above 100 the segment over-indexes.
	Index    float64      `json:"index"`
	Withheld bool         `json:"withheld,omitempty"`
	Reason   slice.Reason `json:"-"`
}

// Segment is one segment's profile, as released by the privacy guard.
type Segment struct {
	Name     string       `json:"name"`
	People   int64        `json:"people"`
	Share    float64      `json:"share"`
	Withheld bool         `json:"withheld,omitempty"`
	Reason   slice.Reason `json:"-"`
	Traits   []Trait      `json:"traits"`   // every value of every dimension, in dimension order
	Measures []float64    `json:"measures"` // one per Segments.Measures; NaN when withheld
}

// Segments is a segmentation's outcome.
type Segments struct {
	// Field is the derived dimension: slice and filter by it like any
	// other (it is in the Runner's inventory from now on).
	Field    inventory.Field        `json:"field"`
	Def      slice.Segmentation     `json:"-"` // its definition
	Dims     []inventory.Field      `json:"dims"`
	K        int                    `json:"k"`
	MinK     int                    `json:"min_k"` // the privacy k
	People   int64                  `json:"people"`
	Choices  []KChoice              `json:"choices"`
	Segments []Segment              `json:"segments"`
	Measures []inventory.MeasureDef `json:"measures"`
}

// Choice returns the fit of the chosen number of segments.
func (s *Segments) Choice() KChoice {
	for _, c := range s.Choices {
		if c.K == s.K {
			return c
		}
	}
	return KChoice{K: s.K}
}

// Segmentation clusters people into segments over the chosen dimensions
// with weighted k-means, makes the segments a dimension (Runner.Derive),
// and profiles them through the privacy guard.
//
// The clustering runs on profiles — people grouped by their values of
// the dimensions — each weighted by its head count. Every dimension is
// one-hot encoded and scaled so that it weighs alike: two different
// values of a single-valued dimension are 1 apart, and a multi-valued
// dimension's indicators are scaled by its mean list length. The number
// of segments, unless given, is the one with the best silhouette, worked
// out on a sample of people drawn by weight.
//
// What is shown — each segment's people, the share of it holding each
// value and the measures — comes from slices by the segment dimension,
// released by the guard; a segment smaller than k is withheld like any
// other cell.
func Segmentation(ctx context.Context, r Runner, opt SegmentOptions) (*Segments, error) {
	r = internal(r, "segments")
	inv := r.Inventory()
	if err := segmentDefaults(inv, &opt); err != nil {
		return nil, err
	}
	people, err := countMeasure(inv)
	if err != nil {
		return nil, err
	}
	out := &Segments{MinK: r.K()}
	for _, name := range opt.Dims {
		f, _ := inv.Field(name)
		out.Dims = append(out.Dims, f)
	}
	ks := []int{opt.K}
	if opt.K == 0 {
		ks = nil
		for k := opt.MinK; k <= opt.MaxK; k++ {
			ks = append(ks, k)
		}
	}
	steps := 1 + len(ks) + 1 + len(opt.Dims)
	step := 0
	progress := func() {
		if opt.Progress != nil {
			opt.Progress(step, steps)
		}
		step++
	}
	progress()
	profiles, err := r.Profiles(ctx, slice.ProfileQuery{Dims: opt.Dims, Filters: opt.Filters, Sample: ModelSample})
	if err != nil {
		return nil, err
	}
	sp := encode(out.Dims, profiles)
	if len(sp.points) < 2 {
		return nil, bad("too few people to segment: widen the filters")
	}
	sample := sp.sample(2000)
	pairs := sp.distances(sample)
	// Each number of segments is fitted on its own, so they run side by
	// side, one per core; the choice is made in order afterwards.
	var fits []*clustering
	for _, k := range ks {
		if k <= len(sp.points) {
			fits = append(fits, nil)
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next = make(chan int)
	)
	for range min(runtime.GOMAXPROCS(0), len(fits)) {
		wg.Go(func() {
			for i := range next {
				c := sp.kmeans(ks[i])
				c.silhouette = silhouette(pairs, len(sample), c, sample)
				mu.Lock()
				fits[i] = c
				progress()
				mu.Unlock()
			}
		})
	}
	for i := range fits {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var best *clustering
	for i, c := range fits {
		out.Choices = append(out.Choices, KChoice{K: ks[i], Silhouette: c.silhouette, Inertia: c.inertia})
		if best == nil || c.silhouette > best.silhouette {
			best = c
		}
	}
	if best == nil {
		return nil, bad("too few distinct profiles for %d segments", opt.K)
	}
	out.K = len(best.centres)
	seg := sp.segmentation(best, out.Dims, r.K())
	field, err := r.Derive(seg)
	if err != nil {
		return nil, err
	}
	out.Field, out.Def = field, seg

	// Profiles of the segments, through the guard.
	progress()
	sizes, err := r.Run(ctx, slice.Query{Dims: []string{field.Name}, Measure: people.Name, Filters: opt.Filters, Order: slice.Label, Totals: true})
	if err != nil {
		return nil, err
	}
	if sizes.Total == nil || sizes.Total.Suppressed || sizes.Total.People == 0 {
		return nil, bad("the population is withheld by the privacy guard: widen the filters")
	}
	out.People = sizes.Total.People
	index := map[string]int{}
	for _, name := range seg.Values {
		index[name] = len(out.Segments)
		out.Segments = append(out.Segments, Segment{Name: name, Withheld: true, Reason: slice.FewPeople})
	}
	for _, row := range sizes.Rows {
		s := &out.Segments[index[row.Keys[0]]]
		s.Withheld, s.Reason = row.Suppressed, row.Reason
		if !row.Suppressed {
			s.People, s.Share = row.People, float64(row.People)/float64(out.People)
		}
	}
	for _, d := range out.Dims {
		progress()
		res, err := r.Run(ctx, slice.Query{Dims: []string{field.Name, d.Name}, Measure: people.Name, Filters: opt.Filters, Order: slice.Label, Totals: true})
		if err != nil {
			return nil, err
		}
		pop := map[string]slice.Row{}
		for _, m := range res.Margins[1] {
			pop[m.Keys[0]] = m
		}
		cells := map[[2]string]slice.Row{}
		var values []string
		for _, row := range res.Rows {
			cells[[2]string{row.Keys[0], row.Keys[1]}] = row
			if !slices.Contains(values, row.Keys[1]) {
				values = append(values, row.Keys[1])
			}
		}
		for i := range out.Segments {
			s := &out.Segments[i]
			for _, v := range values {
				t := Trait{Dim: d.Name, Value: v, Withheld: true, Reason: slice.FewPeople}
				c, ok := cells[[2]string{s.Name, v}]
				p := pop[v]
				switch {
				case !ok:
					t.Withheld, t.Reason = false, slice.Shown // nobody
				case c.Suppressed:
					t.Reason = c.Reason
				case s.Withheld:
					t.Reason = s.Reason
				default:
					t.Withheld, t.Reason = false, slice.Shown
					t.Share = float64(c.People) / float64(s.People)
				}
				if !t.Withheld && !p.Suppressed && p.People > 0 {
					t.Index = 100 * t.Share / (float64(p.People) / float64(out.People))
				} else if !t.Withheld {
					t.Index = math.NaN()
				}
				s.Traits = append(s.Traits, t)
			}
		}
	}
	for _, m := range inv.Measures {
		if m.Kind != inventory.Mean && m.Kind != inventory.Share {
			continue
		}
		res, err := r.Run(ctx, slice.Query{Dims: []string{field.Name}, Measure: m.Name, Filters: opt.Filters, Order: slice.Label})
		if err != nil {
			return nil, err
		}
		out.Measures = append(out.Measures, m)
		vals := map[string]float64{}
		for _, row := range res.Rows {
			if row.Defined() {
				vals[row.Keys[0]] = row.Value
			}
		}
		for i := range out.Segments {
			v, ok := vals[out.Segments[i].Name]
			if !ok {
				v = math.NaN()
			}
			out.Segments[i].Measures = append(out.Segments[i].Measures, v)
		}
	}
	progress()
	return out, nil
}

func segmentDefaults(inv *inventory.Inventory, opt *SegmentOptions) error {
	if len(opt.Dims) == 0 {
		for _, name := range DefaultSegmentDims {
			if f, ok := inv.Field(name); ok && (f.Role == inventory.Dimension || f.Role == inventory.MultiDimension) {
				opt.Dims = append(opt.Dims, name)
			}
		}
		if len(opt.Dims) == 0 {
			return bad("name the dimensions to segment by with --dims")
		}
	}
	for i, name := range opt.Dims {
		f, ok := inv.Field(name)
		switch {
		case !ok:
			return bad("unknown dimension %q; segment by %s", name, strings.Join(dimNames(inv), ", "))
		case f.Role != inventory.Dimension && f.Role != inventory.MultiDimension:
			return bad("%q is a %s field; segment by dimensions such as %s", name, f.Role, strings.Join(dimNames(inv), ", "))
		case strings.HasPrefix(name, slice.SegmentPrefix):
			return bad("%q is itself a segmentation; segment by the data's own dimensions", name)
		case slices.Index(opt.Dims, name) != i:
			return bad("dimension %q given twice", name)
		}
	}
	if opt.MinK == 0 {
		opt.MinK = 2
	}
	if opt.MaxK == 0 {
		opt.MaxK = 8
	}
	switch {
	case opt.K != 0 && (opt.K < 2 || opt.K > 20):
		return bad("%d segments: choose between 2 and 20, or 0 to choose by the silhouette", opt.K)
	case opt.MinK < 2 || opt.MaxK > 20 || opt.MinK > opt.MaxK:
		return bad("segment counts %d..%d: choose a range within 2..20", opt.MinK, opt.MaxK)
	}
	return nil
}

func dimNames(inv *inventory.Inventory) []string {
	var out []string
	for _, f := range inv.Fields {
		if (f.Role == inventory.Dimension || f.Role == inventory.MultiDimension) && !strings.HasPrefix(f.Name, slice.SegmentPrefix) {
			out = append(out, f.Name)
		}
	}
	return out
}

// The clustering below is written here because gonum has no k-means;
// profiles are sparse (a handful of one-hot features each), which a
// general dense implementation would not exploit.

// space is the profiles one-hot encoded: feature j stands for one value
// of one dimension and is scale[j] when a profile has it, 0 otherwise.
type space struct {
	dims   []int      // feature j's dimension
	values []string   // feature j's value
	scale  []float64  // feature j's size when present
	points []sparsePt // one per profile
	total  float64    // people
}

type sparsePt struct {
	nz   []int32 // features present, ascending
	w    float64 // people
	norm float64 // squared length
}

func encode(dims []inventory.Field, profiles []slice.Profile) *space {
	sp := &space{}
	index := map[[2]string]int{}
	feature := func(d int, v string) int {
		key := [2]string{dims[d].Name, v}
		if j, ok := index[key]; ok {
			return j
		}
		j := len(sp.values)
		index[key] = j
		sp.dims, sp.values = append(sp.dims, d), append(sp.values, v)
		return j
	}
	// Known values first, in their natural order, so that feature
	// numbers do not depend on the order profiles come in.
	for d, f := range dims {
		for _, v := range f.Order {
			feature(d, v)
		}
	}
	held := make([]float64, len(dims)) // people × list length, for multi-valued scales
	var weight float64
	for _, p := range profiles {
		weight += float64(p.People)
		for d, vs := range p.Values {
			if dims[d].Role == inventory.MultiDimension {
				held[d] += float64(p.People) * float64(len(vs))
			}
		}
	}
	// New values in a stable order.
	var extra [][2]string
	seen := map[[2]string]bool{}
	for _, p := range profiles {
		for d, vs := range p.Values {
			for _, v := range vs {
				key := [2]string{dims[d].Name, v}
				if _, ok := index[key]; !ok && v != "" && !seen[key] {
					seen[key] = true
					extra = append(extra, key)
				}
			}
		}
	}
	slices.SortFunc(extra, func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(slices.IndexFunc(dims, func(f inventory.Field) bool { return f.Name == a[0] }),
			slices.IndexFunc(dims, func(f inventory.Field) bool { return f.Name == b[0] })), strings.Compare(a[1], b[1]))
	})
	for _, key := range extra {
		feature(slices.IndexFunc(dims, func(f inventory.Field) bool { return f.Name == key[0] }), key[1])
	}
	sp.scale = make([]float64, len(sp.values))
	for j, d := range sp.dims {
		sp.scale[j] = math.Sqrt(0.5)
		if dims[d].Role == inventory.MultiDimension && weight > 0 && held[d] > 0 {
			// Two people's lists differ in about twice the mean length
			// when they share nothing: that distance is 1.
			sp.scale[j] = math.Sqrt(0.5 * weight / held[d])
		}
	}
	sp.total = weight
	for _, p := range profiles {
		if p.People <= 0 {
			continue
		}
		pt := sparsePt{w: float64(p.People)}
		for d, vs := range p.Values {
			for _, v := range vs {
				if v == "" {
					continue // missing: no feature
				}
				j := index[[2]string{dims[d].Name, v}]
				pt.nz = append(pt.nz, int32(j))
				pt.norm += sp.scale[j] * sp.scale[j]
			}
		}
		slices.Sort(pt.nz)
		pt.nz = slices.Compact(pt.nz)
		sp.points = append(sp.points, pt)
	}
	// Profiles come in no set order; the seeding draws by position, so
	// sort them for the same segments every run.
	slices.SortFunc(sp.points, func(a, b sparsePt) int { return slices.Compare(a.nz, b.nz) })
	return sp
}

type clustering struct {
	centres    [][]float64 // in feature space
	cnorm      []float64
	assign     []int
	inertia    float64
	silhouette float64
}

// dist2 is the squared distance of point i to centre c.
func (sp *space) dist2(pt *sparsePt, centre []float64, cnorm float64) float64 {
	dot := 0.0
	for _, j := range pt.nz {
		dot += sp.scale[j] * centre[j]
	}
	return max(0, pt.norm+cnorm-2*dot)
}

func norm2(c []float64) float64 {
	s := 0.0
	for _, x := range c {
		s += x * x
	}
	return s
}

// kmeans clusters the points into k weighted clusters: k-means++ seeds
// from a fixed stream, so a run is reproducible, then Lloyd's
// iterations until no point moves.
func (sp *space) kmeans(k int) *clustering {
	rng := rand.New(rand.NewPCG(uint64(k), 0x5e9e))
	n, dim := len(sp.points), len(sp.scale)
	c := &clustering{assign: make([]int, n)}
	d2 := make([]float64, n)
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	pick := func(weight func(i int) float64) int {
		total := 0.0
		for i := range sp.points {
			total += weight(i)
		}
		x := rng.Float64() * total
		for i := range sp.points {
			x -= weight(i)
			if x <= 0 {
				return i
			}
		}
		return n - 1
	}
	centreOf := func(i int) []float64 {
		v := make([]float64, dim)
		for _, j := range sp.points[i].nz {
			v[j] = sp.scale[j]
		}
		return v
	}
	first := pick(func(i int) float64 { return sp.points[i].w })
	c.centres = append(c.centres, centreOf(first))
	for len(c.centres) < k {
		last := c.centres[len(c.centres)-1]
		ln := norm2(last)
		for i := range sp.points {
			d2[i] = min(d2[i], sp.dist2(&sp.points[i], last, ln))
		}
		c.centres = append(c.centres, centreOf(pick(func(i int) float64 { return sp.points[i].w * d2[i] })))
	}
	c.cnorm = make([]float64, k)
	for it := 0; it < 100; it++ {
		for j, ct := range c.centres {
			c.cnorm[j] = norm2(ct)
		}
		moved := 0
		c.inertia = 0
		for i := range sp.points {
			pt := &sp.points[i]
			best, bd := 0, math.Inf(1)
			for j, ct := range c.centres {
				if d := sp.dist2(pt, ct, c.cnorm[j]); d < bd {
					best, bd = j, d
				}
			}
			if it == 0 || c.assign[i] != best {
				moved++
			}
			c.assign[i] = best
			c.inertia += pt.w * bd
		}
		if moved == 0 {
			break
		}
		sums := make([][]float64, k)
		weights := make([]float64, k)
		for j := range sums {
			sums[j] = make([]float64, dim)
		}
		for i := range sp.points {
			pt := &sp.points[i]
			j := c.assign[i]
			weights[j] += pt.w
			for _, f := range pt.nz {
				sums[j][f] += pt.w * sp.scale[f]
			}
		}
		for j := range sums {
			if weights[j] == 0 {
				// An empty cluster restarts at the point farthest from
				// its centre.
				far, fd := 0, -1.0
				for i := range sp.points {
					if d := sp.dist2(&sp.points[i], c.centres[c.assign[i]], c.cnorm[c.assign[i]]); d > fd {
						far, fd = i, d
					}
				}
				c.centres[j] = centreOf(far)
				continue
			}
			for f := range sums[j] {
				sums[j][f] /= weights[j]
			}
			c.centres[j] = sums[j]
		}
	}
	c.inertia /= sp.total
	return c
}

// sample draws up to n points with probability proportional to their
// people, from a fixed stream.
func (sp *space) sample(n int) []int {
	rng := rand.New(rand.NewPCG(0x5a, 0x3b1e))
	cum := make([]float64, len(sp.points))
	total := 0.0
	for i, pt := range sp.points {
		total += pt.w
		cum[i] = total
	}
	out := make([]int, n)
	for i := range out {
		j, _ := slices.BinarySearch(cum, rng.Float64()*total)
		out[i] = min(j, len(cum)-1)
	}
	return out
}

// distances are the distances between the sampled people, n×n row by
// row: the same for every number of segments, so worked out once, on
// every core, for all of them to share.
func (sp *space) distances(sample []int) []float64 {
	n := len(sample)
	d := make([]float64, n*n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for x := w; x < n; x += workers {
				a := &sp.points[sample[x]]
				for y := x + 1; y < n; y++ {
					d[x*n+y] = sp.dist(a, &sp.points[sample[y]])
				}
			}
		})
	}
	wg.Wait()
	for x := range n { // the lower half mirrors the upper
		for y := range x {
			d[x*n+y] = d[y*n+x]
		}
	}
	return d
}

// dist is the distance between two people: both have sorted lists of
// features, and it adds up, feature by feature in ascending order, those
// only one of them has, so dist(a, b) == dist(b, a) exactly.
func (sp *space) dist(a, b *sparsePt) float64 {
	d, i, j := 0.0, 0, 0
	for i < len(a.nz) || j < len(b.nz) {
		switch {
		case j == len(b.nz) || i < len(a.nz) && a.nz[i] < b.nz[j]:
			d += sp.scale[a.nz[i]] * sp.scale[a.nz[i]]
			i++
		case i == len(a.nz) || b.nz[j] < a.nz[i]:
			d += sp.scale[b.nz[j]] * sp.scale[b.nz[j]]
			j++
		default:
			i, j = i+1, j+1
		}
	}
	return math.Sqrt(d)
}

// silhouette is the mean silhouette of the n sampled people under c,
// from their distances d (distances).
func silhouette(d []float64, n int, c *clustering, sample []int) float64 {
	k := len(c.centres)
	total, counted := 0.0, 0
	sums := make([]float64, k)
	ns := make([]int, k)
	for x, i := range sample {
		clear(sums)
		clear(ns)
		row := d[x*n : (x+1)*n]
		for y, j := range sample {
			if x == y {
				continue
			}
			cj := c.assign[j]
			sums[cj] += row[y]
			ns[cj]++
		}
		own := c.assign[i]
		if ns[own] == 0 {
			continue // alone in its cluster: 0 by convention
		}
		a := sums[own] / float64(ns[own])
		b := math.Inf(1)
		for j := range sums {
			if j != own && ns[j] > 0 {
				b = min(b, sums[j]/float64(ns[j]))
			}
		}
		counted++
		if !math.IsInf(b, 1) && max(a, b) > 0 {
			total += (b - a) / max(a, b)
		}
	}
	if counted == 0 {
		return 0
	}
	return total / float64(n)
}

// segmentation turns the clusters into the dimension's definition:
// segments named S1, S2, … from the most people down, each person in the
// nearest centre's. The squared distance to centre c is |x|² + |c|² −
// 2x·c; |x|² is the same for every segment, so the score is |c|² (the
// bias) plus −2·scale·c for each value the person has.
//
// The definition goes into the release history and the usage log, and a
// centre is the share of its segment's people holding each value: exact,
// it would give away the size of a small segment × value cell that the
// guard withholds. So each share is rounded to steps of 5%, or of 2k
// people of the segment when that is coarser: no cell's size can be read
// from the definition to better than k people either way. The segments
// the rounded centres make differ from the fitted ones only at the edges.
func (sp *space) segmentation(c *clustering, dims []inventory.Field, minK int) slice.Segmentation {
	k := len(c.centres)
	weights := make([]float64, k)
	for i, pt := range sp.points {
		weights[c.assign[i]] += pt.w
	}
	centres := make([][]float64, k)
	for j, ct := range c.centres {
		step := 0.05
		if weights[j] > 0 {
			step = max(step, 2*float64(minK)/weights[j])
		}
		centres[j] = make([]float64, len(ct))
		for f, x := range ct {
			share := min(1, max(0, math.Round(x/sp.scale[f]/step)*step))
			centres[j][f] = share * sp.scale[f]
		}
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(weights[b], weights[a]) })
	seg := slice.Segmentation{
		Label: inventory.Label{ZH: fmt.Sprintf("细分（%d 群）", k), EN: fmt.Sprintf("Segments (%d)", k)},
	}
	for n, j := range order {
		seg.Values = append(seg.Values, "S"+strconv.Itoa(n+1))
		seg.Bias = append(seg.Bias, norm2(centres[j]))
	}
	terms := make([]slice.SegmentTerm, len(dims))
	for d, f := range dims {
		terms[d] = slice.SegmentTerm{Dim: f.Name, Weights: map[string][]float64{}}
	}
	for f, d := range sp.dims {
		ws := make([]float64, k)
		for n, j := range order {
			ws[n] = -2 * sp.scale[f] * centres[j][f]
		}
		terms[d].Weights[sp.values[f]] = ws
	}
	seg.Terms = terms
	return seg
}
