package configs

import (
	"bytes"
	"errors"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The commented examples of each transport, with the variables they need
// and the source of the settings they document.
var transportExamples = []struct {
	file     string
	settings string // the transport type's settings, relative to this directory
	env      map[string]string
	// testOnly are settings the example leaves commented out: they serve
	// test servers only (and are documented in the README and the file).
	testOnly []string
}{
	{"sms.yaml", "../transports/sms/settings.go", map[string]string{
		"SMS_COMPONENT_SECRET": "s3cret-s3cret-s3cret",
		"TWILIO_ACCOUNT_SID":   "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":    "0123456789abcdef0123456789abcdef",
	}, nil},
	{"telegram.yaml", "../transports/telegram/settings.go", map[string]string{
		"TG_COMPONENT_SECRET":     "s3cret-s3cret-s3cret",
		"TELEGRAM_BOT_TOKEN":      "123456:ABC-def_ghi",
		"TELEGRAM_WEBHOOK_SECRET": "0123456789abcdef",
	}, nil},
	{"telegram-user.yaml", "../transports/telegramuser/settings.go", map[string]string{
		"TGU_COMPONENT_SECRET": "s3cret-s3cret-s3cret",
		"TELEGRAM_API_HASH":    "0123456789abcdef0123456789abcdef",
		"TG_SESSION_KEY":       "0123456789abcdef0123456789abcdef",
	}, []string{"server"}},
}

// TestTransportExamples keeps sms.yaml and telegram.yaml from rotting: each
// passes `xmppgw check` with its variables set (the real transport types
// validate the settings), fails naming each variable without them, keeps
// its secrets in variables, and shows every key its transport accepts.
//
// The check runs the real binary because this package's tests register
// stand-ins for the "twilio" and "telegram" types (types_test.go) that know
// only some of the keys, and the real types cannot be linked in beside them
// (a type registered twice panics).
func TestTransportExamples(t *testing.T) {
	bin := buildGateway(t)
	for _, ex := range transportExamples {
		t.Run(ex.file, func(t *testing.T) {
			data, err := os.ReadFile(ex.file)
			if err != nil {
				t.Fatal(err)
			}

			// With its variables: no problems.
			out, code := runCheck(t, bin, ex.file, ex.env)
			if code != 0 || !strings.Contains(out, ex.file+": ok (1 transports)") {
				t.Fatalf("xmppgw check with the variables set: exit %d\n%s", code, out)
			}
			// Without them: one problem per variable, and nothing else.
			out, code = runCheck(t, bin, ex.file, nil)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 2 || len(lines) != len(ex.env) {
				t.Errorf("xmppgw check without the variables: exit %d, want 2 and %d problems\n%s", code, len(ex.env), out)
			}
			for v := range ex.env {
				if !strings.Contains(out, "environment variable "+v+" is not set") {
					t.Errorf("no problem names %s:\n%s", v, out)
				}
			}

			tr := exampleTransport(t, data)
			checkSecrets(t, data, tr)
			// Every key of a transport and of its type's settings is shown.
			want := transportKeys()
			for _, k := range settingsKeys(t, ex.settings) {
				top, _, _ := strings.Cut(k, ".")
				if slices.Contains(ex.testOnly, top) {
					if !strings.Contains(string(data), "#   "+k[strings.LastIndex(k, ".")+1:]+":") && !strings.Contains(string(data), "# "+k+":") {
						t.Errorf("%s does not mention the test-only setting %s", ex.file, k)
					}
					continue
				}
				want = append(want, "settings."+k)
			}
			for _, k := range want {
				if lookupKey(tr, k) == nil {
					t.Errorf("%s does not show %s (transports[0].%s)", ex.file, k, k)
				}
			}
		})
	}
}

// buildGateway builds cmd/xmppgw, which links in every transport type.
func buildGateway(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build xmppgw for this test: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "xmppgw")
	cmd := exec.Command(goCmd, "build", "-o", bin, "xmppgw/cmd/xmppgw")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build xmppgw/cmd/xmppgw: %v\n%s", err, out)
	}
	return bin
}

// runCheck runs `xmppgw check -config file` with only env (and PATH, HOME)
// in its environment, and returns its output and exit code.
func runCheck(t *testing.T, bin, file string, env map[string]string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, "check", "-config", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("running xmppgw check: %v", err)
	return "", 0
}

// exampleTransport returns the node of the example's only transport.
func exampleTransport(t *testing.T, data []byte) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	list := lookupKey(doc.Content[0], "transports")
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) != 1 {
		t.Fatal("want exactly one transport")
	}
	return list.Content[0]
}

// lookupKey follows a dotted path of mapping keys from n.
func lookupKey(n *yaml.Node, path string) *yaml.Node {
	for _, k := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

var envRef = regexp.MustCompile(`^\$\{([A-Z][A-Z0-9_]*)\}$`)

// checkSecrets wants every secret as ${VAR}, and every variable the file
// uses named in its header comment.
func checkSecrets(t *testing.T, data []byte, tr *yaml.Node) {
	t.Helper()
	header, _, _ := strings.Cut(string(data), "\n\n")
	for _, k := range []string{"secret", "settings.account_sid", "settings.auth_token", "settings.token", "settings.webhook_secret",
		"settings.api_hash", "settings.session_key"} {
		n := lookupKey(tr, k)
		if n == nil {
			continue
		}
		m := envRef.FindStringSubmatch(n.Value)
		if m == nil {
			t.Errorf("line %d: %s is %q, want a ${VAR}", n.Line, k, n.Value)
			continue
		}
		if !strings.Contains(header, m[1]) {
			t.Errorf("the header comment does not say what %s is", m[1])
		}
	}
}

// transportKeys returns the keys of a transports[] item (Transport's yaml
// tags, and settings).
func transportKeys() []string {
	keys := []string{"settings"}
	typ := reflect.TypeFor[Transport]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// settingsKeys reads the yaml keys of the type Settings in a transport's
// Go source, nested structs of the same file included ("rate_limits.x").
// (Importing the transport packages here would register their types a
// second time.)
func settingsKeys(t *testing.T, file string) []string {
	t.Helper()
	f, err := goparser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]*ast.StructType{}
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				structs[ts.Name.Name] = st
			}
		}
		return true
	})
	var keys []string
	var walk func(st *ast.StructType, prefix string, depth int)
	walk = func(st *ast.StructType, prefix string, depth int) {
		for _, field := range st.Fields.List {
			if field.Tag == nil {
				continue
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				t.Fatalf("%s: tag %s: %v", file, field.Tag.Value, err)
			}
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			keys = append(keys, prefix+name)
			typ := field.Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok && structs[id.Name] != nil && depth < 3 {
				walk(structs[id.Name], prefix+name+".", depth+1)
			}
		}
	}
	st := structs["Settings"]
	if st == nil {
		t.Fatalf("%s has no type Settings", file)
	}
	walk(st, "", 0)
	if len(keys) < 4 || !slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, ".") }) {
		t.Fatalf("%s: found only %v (want a nested block too): has the source moved?", file, keys)
	}
	return keys
}
