// Package pgtest runs a throwaway PostgreSQL server for tests: the Debian
// package's binaries (initdb, postgres), a data directory in a temp dir,
// listening on 127.0.0.1 on a free port with trust authentication, fsync
// off. Installing them is `make deps` (scripts/install-deps.sh).
//
// A test package shares one server, started on first use and stopped after
// its tests, and gives each test a database of its own:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.Database(t) // postgres://postgres@127.0.0.1:PORT/t_N?sslmode=disable
//		...
//	}
//
// Start and StartT run a server of one's own instead.
//
// PostgreSQL refuses to run as root. Run as root, the server runs as the
// postgres user (which the Debian package creates), its directory owned
// by it; run as anyone else, it runs as that user. The server is sent
// SIGQUIT (immediate shutdown) if the test binary dies, so none is left
// running; its temp dir may then be left behind.
//
// A missing binary fails the test (it is not skipped), naming `make deps`.
package pgtest
