// Package sample generates realistic, deterministic, de-identified
// e-commerce user personas of the kind a Chinese platform licenses to a
// brand: one record per persona, no identifier of any kind, with
// correlated attributes (province weights, an age peak at 25-34, category
// preference by gender and age, purchase frequency by member level, 618
// and Singles' Day peaks) and a planted campaign effect that analyses must
// recover. sample/README.md documents every planted effect.
//
// Records are produced as Apache Arrow record batches so they can be
// written to Parquet or loaded straight into the engine without touching
// the disk. Record i depends only on the seed and i, so the output is the
// same whatever the number of workers or the batch size.
package sample

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultRows is the size of the demo sample.
const DefaultRows = 200_000

// DefaultSeed is the demo sample's seed.
const DefaultSeed uint64 = 20251111

// MaxRows is the largest sample this package generates: far beyond
// benchmark sizes (100M), low enough that a mistyped count fails at once
// instead of running out of memory or disk.
const MaxRows = 1_000_000_000

// BatchRows is the number of records in one Arrow record batch.
const BatchRows = 64 * 1024

// Options configure a generation run.
type Options struct {
	// First is the index of the first record; records First..First+Rows-1
	// are generated.
	First   int64
	Rows    int64
	Seed    uint64
	Workers int // 0: one per CPU
	// Progress, if set, is called after each batch with the records done
	// so far. Calls never overlap and the count never goes down.
	Progress func(done int64)
}

// dictType is the Arrow type of the single-valued dimension columns:
// small integer codes into a fixed dictionary of labels. Building codes is
// far cheaper than building strings, and Parquet stores them as dictionary
// pages without hashing each value again.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}

// dictionaries of the single-valued dimension columns, in schema order.
var dictionaries = [][]string{
	AgeBands, Genders,
	names(len(Provinces), func(i int) string { return Provinces[i].Name }),
	names(len(Provinces), func(i int) string { return Provinces[i].Code }),
	Regions, CityTiers, MemberLevels, Devices, FrequencyBands,
}

const exposureCol = 13

// provinceRegion maps a province index to its index in Regions.
var provinceRegion = func() []int {
	out := make([]int, len(Provinces))
	for i, p := range Provinces {
		out[i] = slices.Index(Regions, p.Region)
	}
	return out
}() // also a dictionary column

func names(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// Schema is the Arrow schema of the personas table. Its columns match
// Inventory's fields.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "age_band", Type: dictType},
	{Name: "gender", Type: dictType},
	{Name: "province", Type: dictType},
	{Name: "province_code", Type: dictType},
	{Name: "region", Type: dictType},
	{Name: "city_tier", Type: dictType},
	{Name: "member_level", Type: dictType},
	{Name: "device", Type: dictType},
	{Name: "purchase_frequency", Type: dictType},
	{Name: "categories", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: "page_types", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: "monthly_orders", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	{Name: "monthly_gmv", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	{Name: "campaign_exposure", Type: dictType},
	{Name: "campaign_converted", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// Persona is one generated record.
type Persona struct {
	Age, Gender, Province, Tier, Level, Device, Frequency int
	Categories, PageTypes                                 []int
	Orders                                                [12]int32
	GMV                                                   [12]float64
	Exposed, Converted                                    bool
}

// Generator draws personas. It is not safe for concurrent use; make one
// per goroutine.
type Generator struct {
	seed uint64
	src  rand.PCG
	rng  *rand.Rand
	p    Persona
}

// NewGenerator returns a generator for the given seed.
func NewGenerator(seed uint64) *Generator {
	g := &Generator{seed: seed}
	g.rng = rand.New(&g.src)
	g.p.Categories = make([]int, 0, len(Categories))
	g.p.PageTypes = make([]int, 0, len(PageTypes))
	return g
}

var (
	provinceCum = cumulative(len(Provinces), func(i int) float64 { return Provinces[i].Pop * Provinces[i].Online })
	ageCum      = cumulative(len(AgeWeights), func(i int) float64 { return AgeWeights[i] })
	levelBase   = []float64{0.45, 0.25, 0.16, 0.10, 0.04}
	levelRate   = []float64{0.30, 0.65, 1.2, 2.2, 3.8} // mean orders per month
	ageLevel    = []float64{-0.25, 0, 0.12, 0.15, 0.08, -0.05}
	tierSpend   = []float64{1.30, 1.15, 1.0, 0.92, 0.85, 0.80}
)

func cumulative(n int, w func(int) float64) []float64 {
	c := make([]float64, n)
	var s float64
	for i := range c {
		s += w(i)
		c[i] = s
	}
	for i := range c {
		c[i] /= s
	}
	return c
}

func pickCum(cum []float64, u float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

func pickWeights(w []float64, u float64) int {
	var s float64
	for _, x := range w {
		s += x
	}
	u *= s
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// poisson draws from a Poisson distribution: Knuth's method for the small
// means of monthly orders, a rounded normal above 30.
func (g *Generator) poisson(mean float64) int32 {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return int32(math.Max(0, math.Round(mean+math.Sqrt(mean)*g.rng.NormFloat64())))
	}
	l := math.Exp(-mean)
	var k int32
	p := 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *Generator) lognormal(sigma float64) float64 {
	// mean-one lognormal
	return math.Exp(sigma*g.rng.NormFloat64() - sigma*sigma/2)
}

// Lift is the planted campaign effect for a persona: exposed personas
// convert this much more often (relatively) than unexposed ones like them.
func Lift(p *Persona) float64 {
	lift := 0.20
	if p.Age == 1 || p.Age == 2 { // 25-29, 30-34
		lift += 0.10
	}
	if p.Gender == 0 && p.prefers(1) { // women who prefer 美妆
		lift += 0.10
	}
	return lift
}

func (p *Persona) prefers(cat int) bool {
	for _, c := range p.Categories {
		if c == cat {
			return true
		}
	}
	return false
}

func (p *Persona) browses(page int) bool {
	for _, c := range p.PageTypes {
		if c == page {
			return true
		}
	}
	return false
}

// Persona returns record i. The returned value is reused by the next call.
func (g *Generator) Persona(i int64) *Persona {
	g.src.Seed(g.seed, uint64(i))
	r := g.rng
	p := &g.p
	p.Categories = p.Categories[:0]
	p.PageTypes = p.PageTypes[:0]

	p.Age = pickCum(ageCum, r.Float64())
	p.Gender = 1
	if r.Float64() < 0.56 {
		p.Gender = 0
	}
	p.Province = pickCum(provinceCum, r.Float64())
	prov := &Provinces[p.Province]
	p.Tier = cityTier(prov, r.Float64())

	// Member level: more premium in bigger cities and at 30-39.
	var lw [5]float64
	shift := 0.25*(2.5-float64(p.Tier))/2.5 + ageLevel[p.Age]
	for l := range lw {
		lw[l] = levelBase[l] * math.Exp(float64(l)*shift)
	}
	p.Level = pickWeights(lw[:], r.Float64())

	// Device.
	iphone := 0.22
	if p.Tier <= 1 {
		iphone += 0.18
	}
	if p.Gender == 0 && p.Age <= 2 {
		iphone += 0.08
	}
	pc := 0.10
	if p.Age >= 3 && p.Age <= 4 {
		pc += 0.05
	}
	p.Device = pickWeights([]float64{1 - iphone - pc - 0.04, iphone, pc, 0.04}, r.Float64())

	// Category preferences by gender and age.
	best, bestP := 0, 0.0
	for c, cat := range Categories {
		pr := math.Min(0.95, cat.Base*cat.Gender[p.Gender]*cat.Age[p.Age])
		if pr > bestP {
			best, bestP = c, pr
		}
		if r.Float64() < pr {
			p.Categories = append(p.Categories, c)
		}
	}
	if len(p.Categories) == 0 {
		p.Categories = append(p.Categories, best)
	}

	// Monthly activity: the order rate rises with member level.
	rate := levelRate[p.Level] * g.lognormal(0.5)
	var basket float64
	for _, c := range p.Categories {
		basket += Categories[c].Basket
	}
	basket = basket / float64(len(p.Categories)) * tierSpend[p.Tier] * g.lognormal(0.3)
	var total int
	for m := range p.Orders {
		o := g.poisson(rate * Seasonality[m])
		p.Orders[m] = o
		p.GMV[m] = 0
		if o > 0 {
			p.GMV[m] = math.Round(float64(o)*basket*g.lognormal(0.25)*100) / 100
		}
		total += int(o)
	}
	p.Frequency = frequencyBand(total)

	// Page types, shaped by activity and, for live streams, gender and age.
	activity := math.Min(1.6, 0.7+rate*0.3)
	for t, pt := range PageTypes {
		pr := pt.Base
		switch pt.Name {
		case "直播间":
			if p.Gender == 0 && p.Age >= 1 && p.Age <= 3 {
				pr *= 1.4
			}
			if p.Age == 5 {
				pr *= 0.7
			}
		case "购物车", "活动会场":
			pr *= activity
		}
		if r.Float64() < math.Min(0.98, pr) {
			p.PageTypes = append(p.PageTypes, t)
		}
	}

	// Campaign exposure: more likely for personas who browse event venues
	// and live streams or like beauty (a selection effect analyses must
	// control for).
	exp := 0.22
	if p.browses(5) {
		exp *= 1.6
	}
	if p.browses(3) {
		exp *= 1.3
	}
	if p.prefers(1) {
		exp *= 1.2
	}
	p.Exposed = r.Float64() < math.Min(0.85, exp)

	// Conversion: a segment baseline, raised by Lift when exposed.
	conv := 0.03 + 0.012*float64(p.Level) + 0.01*float64(p.Frequency)
	if p.prefers(1) {
		conv += 0.04
	}
	if p.Exposed {
		conv *= 1 + Lift(p)
	}
	p.Converted = r.Float64() < conv
	return p
}

func cityTier(prov *Province, u float64) int {
	switch prov.Code {
	case "110000", "310000":
		return 0
	case "120000", "500000":
		return 1
	}
	d := prov.Dev
	w := []float64{0, 0.08 + 0.25*d, 0.12 + 0.15*d, 0.25, math.Max(0.03, 0.27-0.2*d), math.Max(0.02, 0.28-0.25*d)}
	if prov.Code == "440000" {
		w[0] = 0.35
	}
	return pickWeights(w, u)
}

// columns holds one worker's builders.
type columns struct {
	codes       [10]*array.Int8Builder // dictionary columns: 9 dimensions and exposure
	dicts       [10]arrow.Array
	cats, pages *array.ListBuilder
	orders, gmv *array.ListBuilder
	conv        *array.BooleanBuilder
}

func newColumns(mem memory.Allocator) *columns {
	c := &columns{}
	for i := range c.codes {
		c.codes[i] = array.NewInt8Builder(mem)
		d := Exposures
		if i < len(dictionaries) {
			d = dictionaries[i]
		}
		sb := array.NewStringBuilder(mem)
		sb.AppendValues(d, nil)
		c.dicts[i] = sb.NewArray()
		sb.Release()
	}
	c.cats = array.NewListBuilder(mem, arrow.BinaryTypes.String)
	c.pages = array.NewListBuilder(mem, arrow.BinaryTypes.String)
	c.orders = array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	c.gmv = array.NewListBuilder(mem, arrow.PrimitiveTypes.Float64)
	c.conv = array.NewBooleanBuilder(mem)
	return c
}

func (c *columns) release() {
	for i := range c.codes {
		c.codes[i].Release()
		c.dicts[i].Release()
	}
	c.cats.Release()
	c.pages.Release()
	c.orders.Release()
	c.gmv.Release()
	c.conv.Release()
}

// batch builds the record batch holding records [from, to).
func (g *Generator) batch(c *columns, from, to int64) arrow.RecordBatch {
	n := int(to - from)
	for _, b := range c.codes {
		b.Reserve(n)
	}
	c.conv.Reserve(n)
	catv := c.cats.ValueBuilder().(*array.StringBuilder)
	pagev := c.pages.ValueBuilder().(*array.StringBuilder)
	orderv := c.orders.ValueBuilder().(*array.Int32Builder)
	gmvv := c.gmv.ValueBuilder().(*array.Float64Builder)
	for i := from; i < to; i++ {
		p := g.Persona(i)
		region := provinceRegion[p.Province]
		exposed := int8(0)
		if p.Exposed {
			exposed = 1
		}
		for col, v := range [10]int8{int8(p.Age), int8(p.Gender), int8(p.Province), int8(p.Province), int8(region),
			int8(p.Tier), int8(p.Level), int8(p.Device), int8(p.Frequency), exposed} {
			c.codes[col].UnsafeAppend(v)
		}
		c.cats.Append(true)
		for _, k := range p.Categories {
			catv.Append(Categories[k].Name)
		}
		c.pages.Append(true)
		for _, t := range p.PageTypes {
			pagev.Append(PageTypes[t].Name)
		}
		c.orders.Append(true)
		orderv.AppendValues(p.Orders[:], nil)
		c.gmv.Append(true)
		gmvv.AppendValues(p.GMV[:], nil)
		c.conv.UnsafeAppend(p.Converted)
	}
	cols := make([]arrow.Array, len(Schema.Fields()))
	dict := func(i int) arrow.Array {
		idx := c.codes[i].NewArray()
		defer idx.Release()
		return array.NewDictionaryArray(dictType, idx, c.dicts[i])
	}
	for i := range 9 {
		cols[i] = dict(i)
	}
	cols[9] = c.cats.NewArray()
	cols[10] = c.pages.NewArray()
	cols[11] = c.orders.NewArray()
	cols[12] = c.gmv.NewArray()
	cols[exposureCol] = dict(9)
	cols[14] = c.conv.NewArray()
	rec := array.NewRecordBatch(Schema, cols, int64(n))
	for _, a := range cols {
		a.Release()
	}
	return rec
}

// Reader streams the generated records as Arrow record batches, built in
// parallel and delivered in order.
type Reader struct {
	refs   atomic.Int64
	ctx    context.Context
	cancel context.CancelFunc
	order  chan chan arrow.RecordBatch
	cur    arrow.RecordBatch
	err    error
	wg     sync.WaitGroup
}

// NewReader starts generating. Release the reader (or cancel ctx) to stop
// early.
func NewReader(ctx context.Context, opt Options) (*Reader, error) {
	if opt.Rows < 0 || opt.Rows > MaxRows || opt.First < 0 {
		return nil, fmt.Errorf("rows must be between 0 and %d, got %d (from %d)", MaxRows, opt.Rows, opt.First)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Reader{ctx: ctx, cancel: cancel, order: make(chan chan arrow.RecordBatch, 2*workers)}
	r.refs.Store(1)
	type job struct {
		from, to int64
		out      chan arrow.RecordBatch
	}
	jobs := make(chan job)
	var (
		progress sync.Mutex
		done     int64
	)
	for range workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			g := NewGenerator(opt.Seed)
			c := newColumns(memory.DefaultAllocator)
			defer c.release()
			for j := range jobs {
				rec := g.batch(c, j.from, j.to)
				j.out <- rec // buffered: never blocks
				if opt.Progress != nil {
					progress.Lock()
					done += j.to - j.from
					opt.Progress(done)
					progress.Unlock()
				}
			}
		}()
	}
	go func() {
		defer close(r.order)
		defer close(jobs)
		end := opt.First + opt.Rows
		for from := opt.First; from < end; from += BatchRows {
			j := job{from: from, to: min(from+BatchRows, end), out: make(chan arrow.RecordBatch, 1)}
			select {
			case r.order <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				close(j.out)
				return
			}
		}
	}()
	return r, nil
}

// Schema implements array.RecordReader.
func (r *Reader) Schema() *arrow.Schema { return Schema }

// Next implements array.RecordReader.
func (r *Reader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	select {
	case out, ok := <-r.order:
		if !ok {
			r.err = r.ctx.Err()
			return false
		}
		select {
		case rec, ok := <-out:
			if !ok {
				r.err = r.ctx.Err()
				return false
			}
			r.cur = rec
			return true
		case <-r.ctx.Done():
			r.err = r.ctx.Err()
			return false
		}
	case <-r.ctx.Done():
		r.err = r.ctx.Err()
		return false
	}
}

// RecordBatch implements array.RecordReader.
func (r *Reader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record implements array.RecordReader.
//
// Deprecated: use RecordBatch.
func (r *Reader) Record() arrow.RecordBatch { return r.cur }

// Err implements array.RecordReader: the context's error if generation was
// cancelled before the end.
func (r *Reader) Err() error { return r.err }

// Retain implements array.RecordReader.
func (r *Reader) Retain() { r.refs.Add(1) }

// Release implements array.RecordReader. The last release stops the
// workers and frees undelivered batches.
func (r *Reader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.cancel()
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.wg.Wait()
	// Every batch still queued is either built or closed by now.
	for out := range r.order {
		select {
		case rec, ok := <-out:
			if ok && rec != nil {
				rec.Release()
			}
		default:
		}
	}
}

var _ array.RecordReader = (*Reader)(nil)
