# median.awk reads `go test -bench` output run with -count N and prints
# each benchmark's median time per operation, in milliseconds.
/^Benchmark/ && $4 == "ns/op" {
	name = $1; sub(/-[0-9]+$/, "", name)
	if (!(name in n)) order[++names] = name
	v[name, ++n[name]] = $3
}
END {
	for (i = 1; i <= names; i++) {
		name = order[i]; k = n[name]
		for (a = 1; a <= k; a++) s[a] = v[name, a]
		for (a = 2; a <= k; a++) { x = s[a]; for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]; s[b + 1] = x }
		med = (k % 2) ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2
		printf "%-40s median %8.2f ms  (%d runs, %.2f–%.2f)\n", name, med / 1e6, k, s[1] / 1e6, s[k] / 1e6
	}
}
