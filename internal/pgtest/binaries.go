package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// debianBins is where Debian's postgresql-N packages put the server's
// binaries (a variable for tests).
var debianBins = "/usr/lib/postgresql/*/bin"

// binaries finds initdb and postgres: in $PGTEST_BINDIR if set, else in
// the newest /usr/lib/postgresql/N/bin (Debian keeps them off PATH), else
// on PATH.
func binaries() (initdb, postgres string, err error) {
	var dirs []string
	if d := os.Getenv("PGTEST_BINDIR"); d != "" {
		dirs = append(dirs, d)
	}
	versions, _ := filepath.Glob(debianBins)
	sort.Slice(versions, func(i, j int) bool { return version(versions[i]) > version(versions[j]) })
	dirs = append(dirs, versions...)
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "postgres")
		if executable(i) && executable(p) {
			return i, p, nil
		}
	}
	i, err1 := exec.LookPath("initdb")
	p, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return i, p, nil
	}
	return "", "", fmt.Errorf("pgtest: PostgreSQL's initdb and postgres were not found " +
		"($PGTEST_BINDIR, /usr/lib/postgresql/*/bin, PATH); run `make deps` to install the postgresql package")
}

// version is N of /usr/lib/postgresql/N/bin, or 0.
func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// account returns the user to run the server as: the postgres user when
// this process is root (postgres refuses to run as root), else nil for
// this process's own.
func account() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: PostgreSQL refuses to run as root, and there is no postgres user to run it as (%v); run `make deps` to install the postgresql package, which creates it", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: the postgres user has ids %s:%s, not numbers", u.Uid, u.Gid)
	}
	// Groups is empty, not nil: no supplementary group of root's is kept.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}
