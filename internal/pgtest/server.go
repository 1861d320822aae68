package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Bounds on the server's life.
const (
	initTimeout  = 60 * time.Second // initdb
	readyTimeout = 30 * time.Second // from starting postgres to its first answer
	stopTimeout  = 15 * time.Second // fast shutdown, before SIGKILL
	startTries   = 3                // free ports taken by someone else meanwhile
)

// superuser is the server's superuser, trusted on loopback.
const superuser = "postgres"

// Server is a running PostgreSQL server of this process.
type Server struct {
	dir       string // the data directory is dir/data, the socket in dir
	removeDir bool   // Start made dir: Stop removes it
	port      int
	cmd       *exec.Cmd
	exited    chan struct{} // closed when postgres has exited
	dbs       atomic.Int64  // databases made by CreateDatabase
	stopOnce  sync.Once
	stopErr   error
}

// Start runs initdb and postgres in dir ("" for a new temp dir, which Stop
// removes) and returns once the server answers on 127.0.0.1, or ctx ends.
// Run as root, dir is given to the postgres user, so it (and its parents)
// must be reachable by that user: "" always is.
func Start(ctx context.Context, dir string) (*Server, error) {
	initdb, postgres, err := binaries()
	if err != nil {
		return nil, err
	}
	cred, err := account()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	if dir == "" {
		if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		s.removeDir = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	fail := func(err error) (*Server, error) {
		if s.removeDir {
			os.RemoveAll(s.dir)
		}
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("pgtest: give %s to the postgres user: %w", s.dir, err))
		}
	}
	if err := s.initdb(ctx, initdb, cred); err != nil {
		return fail(err)
	}
	for try := 1; ; try++ {
		err := s.start(ctx, postgres, cred)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || try == startTries {
			return fail(err)
		}
	}
}

// initdb makes the data directory.
func (s *Server) initdb(ctx context.Context, initdb string, cred *syscall.Credential) error {
	ctx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, initdb, "-D", s.dataDir(), "-U", superuser, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	s.setup(cmd, cred)
	if out, err := cmd.CombinedOutput(); err != nil {
		hint := ""
		if cred != nil {
			hint = " (as root, initdb runs as the postgres user: it must be able to reach " + s.dir + ")"
		}
		return fmt.Errorf("pgtest: initdb: %v%s\n%s", err, hint, out)
	}
	return nil
}

// errPortTaken is a start that lost its port to another process.
var errPortTaken = errors.New("pgtest: port taken")

// start runs postgres on a free port and waits until it answers.
func (s *Server) start(ctx context.Context, postgres string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	log, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(postgres, "-D", s.dataDir(), "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "logging_collector=off")
	s.setup(cmd, cred)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd, s.port = cmd, port
	s.exited = make(chan struct{})
	go func() { cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx); err != nil {
		s.kill()
		return err
	}
	return nil
}

// setup runs cmd in the server's directory as the server's user, with a
// plain environment, and has it killed if this process dies.
func (s *Server) setup(cmd *exec.Cmd, cred *syscall.Credential) {
	cmd.Dir = s.dir
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	// The kernel sends Pdeathsig when the thread that started cmd ends,
	// which in Go is when the process ends (the runtime keeps its threads
	// unless a goroutine locked to one exits). Credential switches user in
	// the child itself, so the signal reaches postgres, not a runuser.
	// SIGQUIT is postgres's immediate shutdown: it ends its children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}

// waitReady polls the server until it answers, exits or readyTimeout.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		select {
		case <-s.exited:
			tail := s.logTail()
			if strings.Contains(tail, "could not bind") || strings.Contains(tail, "could not create any TCP/IP sockets") {
				return errPortTaken
			}
			return fmt.Errorf("pgtest: postgres exited while starting (%v); its log ends:\n%s", s.cmd.ProcessState, tail)
		default:
		}
		if err := s.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres did not answer within %v (%v); its log ends:\n%s", readyTimeout, ctx.Err(), s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ping connects once to the maintenance database.
func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, s.DSN())
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// DSN returns the URL of the server's maintenance database, "postgres", as
// the superuser.
func (s *Server) DSN() string { return s.DSNFor("postgres") }

// DSNFor returns the URL of database on the server, as the superuser.
func (s *Server) DSNFor(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, database)
}

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Pid returns the process id of the server (the postmaster).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Dir returns the server's directory: the data directory is Dir()/data.
func (s *Server) Dir() string { return s.dir }

// CreateDatabase creates a new empty database, t_1, t_2, ..., and returns
// its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := "t_" + strconv.FormatInt(s.dbs.Add(1), 10)
	c, err := pgconn.Connect(ctx, s.DSN())
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name).ReadAll(); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.DSNFor(name), nil
}

// Stop shuts the server down (fast shutdown, then SIGKILL after
// stopTimeout) and removes its directory if Start made it. It is
// idempotent.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown: ends sessions, checkpoints
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			s.stopErr = fmt.Errorf("pgtest: postgres did not stop within %v; killed", stopTimeout)
			s.kill()
		}
		if s.removeDir {
			if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
				s.stopErr = fmt.Errorf("pgtest: %w", err)
			}
		}
	})
	return s.stopErr
}

// kill ends postgres at once and waits (bounded) for it to exit.
func (s *Server) kill() {
	s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *Server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// logTail returns the end of the server's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath())
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
