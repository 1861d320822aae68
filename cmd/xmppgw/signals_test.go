package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// signalHelperEnv makes the test binary run hangingShutdown instead of the
// tests.
const signalHelperEnv = "XMPPGW_TEST_HANGING_SHUTDOWN"

func TestMain(m *testing.M) {
	if os.Getenv(signalHelperEnv) == "1" {
		hangingShutdown()
	}
	os.Exit(m.Run())
}

// hangingShutdown takes signals as main does, and then never finishes
// shutting down.
func hangingShutdown() {
	ctx, _ := signalContext()
	fmt.Println("running")
	<-ctx.Done()
	fmt.Println("shutting down")
	time.Sleep(time.Hour)
	os.Exit(0)
}

// The first SIGINT or SIGTERM starts the shutdown; a second one kills the
// process, even while its shutdown hangs.
func TestSecondSignalKills(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), signalHelperEnv+"=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			lines := bufio.NewScanner(out)
			next := func(want string) {
				t.Helper()
				if !lines.Scan() || lines.Text() != want {
					t.Fatalf("the process wrote %q (%v), want %q", lines.Text(), lines.Err(), want)
				}
			}
			next("running")
			cmd.Process.Signal(sig)
			next("shutting down")
			cmd.Process.Signal(sig)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != sig {
					t.Errorf("the process ended with %v, want killed by %v", err, sig)
				}
			case <-time.After(30 * time.Second): // the failure bound
				cmd.Process.Kill()
				<-exited
				t.Errorf("the second %v did not end the process", sig)
			}
		})
	}
}
