//go:build race

package abuse

// raceEnabled: the race detector is on. sync.Pool then drops items at
// random, so allocation counts mean nothing, and everything runs ~10× slower.
const raceEnabled = true
