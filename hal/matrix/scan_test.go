package matrix

import "testing"

func set(rc ...[2]int) keys {
	var k keys
	for _, p := range rc {
		k |= bit(p[0], p[1])
	}
	return k
}

func TestGhosted(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    keys
		want bool
	}{
		{"none", 0, false},
		{"one", set([2]int{0, 0}), false},
		{"same row", set([2]int{0, 0}, [2]int{0, 3}), false},
		{"same column", set([2]int{0, 1}, [2]int{4, 1}), false},
		{"diagonal", set([2]int{0, 0}, [2]int{1, 1}), false},
		{"rectangle", set([2]int{0, 0}, [2]int{0, 1}, [2]int{1, 0}, [2]int{1, 1}), true},
		{"far rectangle", set([2]int{1, 0}, [2]int{1, 3}, [2]int{4, 0}, [2]int{4, 3}), true},
	} {
		if got := tc.k.ghosted(5); got != tc.want {
			t.Errorf("%s: ghosted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDebouncer(t *testing.T) {
	a, b := set([2]int{0, 0}), set([2]int{1, 2})
	ghost := set([2]int{0, 0}, [2]int{0, 1}, [2]int{1, 0}, [2]int{1, 1})
	type step struct {
		scan    keys
		pressed keys
		idle    bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"clean press", []step{{a, 0, false}, {a, 0, false}, {a, a, false}, {a, 0, false}, {0, 0, false}, {0, 0, false}, {0, 0, true}}},
		{"bounce settles once", []step{{a, 0, false}, {0, 0, false}, {a, 0, false}, {a, 0, false}, {a, a, false}, {0, 0, false}, {a, 0, false}, {0, 0, false}, {0, 0, false}, {0, 0, true}}},
		{"spurious wake", []step{{0, 0, false}, {0, 0, false}, {0, 0, true}}},
		{"second key while first held", []step{{a, 0, false}, {a, 0, false}, {a, a, false}, {a | b, 0, false}, {a | b, 0, false}, {a | b, b, false}}},
		{"ghost rejected", []step{{ghost, 0, false}, {ghost, 0, false}, {ghost, 0, false}, {0, 0, false}, {0, 0, false}, {0, 0, true}}},
		{"ghost keeps held key, no new", []step{{a, 0, false}, {a, 0, false}, {a, a, false}, {ghost, 0, false}, {ghost, 0, false}, {ghost, 0, false}, {a, 0, false}, {a, 0, false}, {a, 0, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := debouncer{need: 3, rows: 5}
			for i, s := range tc.steps {
				p, idle := d.next(s.scan)
				if p != s.pressed || idle != s.idle {
					t.Fatalf("step %d: scan %#x gave pressed %#x idle %v; want %#x %v", i, s.scan, p, idle, s.pressed, s.idle)
				}
			}
		})
	}
}
