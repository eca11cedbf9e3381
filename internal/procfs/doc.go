// Package procfs reads what Linux's /proc says about processes, for the
// tests and the benchmark only: which processes run a given command line
// (Find: the scenarios' proc command, the end-to-end tests that check a
// program is gone), and what a server costs (CPU, Status, FDs, Children:
// the benchmark). Every figure is the process's own, never its children's.
package procfs
