//go:build race

package evaluate

// raceEnabled: the race detector is on and the collector's User-Agent
// parsing runs some 25 times slower.
const raceEnabled = true
