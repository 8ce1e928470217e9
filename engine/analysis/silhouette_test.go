package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The silhouette from the shared distance matrix equals the textbook one,
// each distance worked out as it is needed, to the last bit.
func TestSilhouetteFromDistances(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sp := &space{scale: make([]float64, 40)}
	for j := range sp.scale {
		sp.scale[j] = 0.2 + rng.Float64()
	}
	for range 300 {
		var pt sparsePt
		for j := range sp.scale {
			if rng.IntN(4) == 0 {
				pt.nz = append(pt.nz, int32(j))
			}
		}
		pt.w = float64(1 + rng.IntN(20))
		sp.points = append(sp.points, pt)
		sp.total += pt.w
	}
	sample := sp.sample(150) // draws some people twice
	d := sp.distances(sample)
	for k := 2; k <= 6; k++ {
		c := sp.kmeans(k)
		got := silhouette(d, len(sample), c, sample)
		if want := textbookSilhouette(sp, sample, c); got != want || math.IsNaN(got) {
			t.Errorf("k=%d: silhouette %v, want %v", k, got, want)
		}
	}
	for x := range sample {
		for y := range sample {
			if d[x*len(sample)+y] != d[y*len(sample)+x] {
				t.Fatalf("d[%d][%d] != d[%d][%d]", x, y, y, x)
			}
		}
	}
}

func textbookSilhouette(sp *space, sample []int, c *clustering) float64 {
	k := len(c.centres)
	total := 0.0
	for x, i := range sample {
		sums, ns := make([]float64, k), make([]int, k)
		for y, j := range sample {
			if x != y {
				sums[c.assign[j]] += sp.dist(&sp.points[i], &sp.points[j])
				ns[c.assign[j]]++
			}
		}
		own := c.assign[i]
		if ns[own] == 0 {
			continue
		}
		a, b := sums[own]/float64(ns[own]), math.Inf(1)
		for j := range sums {
			if j != own && ns[j] > 0 {
				b = min(b, sums[j]/float64(ns[j]))
			}
		}
		if !math.IsInf(b, 1) && max(a, b) > 0 {
			total += (b - a) / max(a, b)
		}
	}
	return total / float64(len(sample))
}
