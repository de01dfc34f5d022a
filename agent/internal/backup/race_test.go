//go:build race

package backup

// raceEnabled skips tests that the race detector makes too slow to be worth it.
const raceEnabled = true
