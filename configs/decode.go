package configs

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The decoder below stores a node tree into Go values the way yaml.v3 does,
// but strictly (unknown and repeated keys are problems) and going on after
// each problem, so that every problem is reported with its key path.
// Scalars are still converted by yaml.v3 itself.

const maxSteps = 100_000 // nodes decoded, counting each alias use

var (
	nodeType      = reflect.TypeFor[*yaml.Node]()
	durationType  = reflect.TypeFor[time.Duration]()
	unmarshalers  = []reflect.Type{reflect.TypeFor[yaml.Unmarshaler](), reflect.TypeFor[obsoleteUnmarshaler]()}
	textUnmarshal = reflect.TypeFor[encoding.TextUnmarshaler]()
)

type obsoleteUnmarshaler interface {
	UnmarshalYAML(unmarshal func(any) error) error
}

// decode stores n, found at path, into the settable value v.
func (p *parser) decode(n *yaml.Node, v reflect.Value, path string) {
	if p.steps++; p.steps > maxSteps {
		p.bad[path] = true
		if p.steps == maxSteps+1 {
			p.add(n.Line, path, "the file is too large or its aliases nest too deep")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || p.active[n.Alias] {
			p.bad[path] = true
			p.add(n.Line, path, "alias refers to itself")
			return
		}
		p.active[n.Alias] = true
		p.decode(n.Alias, v, path)
		delete(p.active, n.Alias)
		return
	}
	t := v.Type()
	switch {
	case t == nodeType:
		v.Set(reflect.ValueOf(n))
		return
	case isNull(n):
		return // keep the zero or default value
	case implementsAny(t, unmarshalers...):
		p.decodeScalar(n, v, path)
		return
	case implementsAny(t, textUnmarshal):
		if n.Kind != yaml.ScalarNode {
			p.mismatch(n, "a string", path)
			return
		}
		p.decodeScalar(n, v, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			if !v.CanSet() {
				return
			}
			v.Set(reflect.New(t.Elem()))
		}
		p.decode(n, v.Elem(), path)
	case reflect.Struct:
		p.decodeStruct(n, v, path)
	case reflect.Map:
		p.decodeMap(n, v, path)
	case reflect.Slice:
		p.decodeSlice(n, v, path)
	case reflect.Interface, reflect.Array:
		p.decodeScalar(n, v, path) // yaml.v3 decodes the whole node
	default:
		if n.Kind != yaml.ScalarNode {
			p.mismatch(n, want(t), path)
			return
		}
		p.decodeScalar(n, v, path)
	}
}

// implementsAny reports whether *t implements one of the interfaces.
func implementsAny(t reflect.Type, ifaces ...reflect.Type) bool {
	for _, i := range ifaces {
		if reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	return false
}

func (p *parser) mismatch(n *yaml.Node, want, path string) {
	p.bad[path] = true
	p.add(n.Line, path, fmt.Sprintf("expected %s, got %s", want, p.describe(n))+quotedHint(n, want))
}

// want names what a value of type t looks like in YAML.
func want(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 30s"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return want(t.Elem())
	}
	return t.String()
}

// decodeScalar lets yaml.v3 decode n into v, converting its errors.
func (p *parser) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	// yaml.v3 truncates a float decoded into an integer (1.5 becomes 1),
	// and takes .nan and .inf as numbers: none is what was meant.
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		var f float64
		if n.Decode(&f) == nil {
			switch v.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
					p.mismatch(n, want(v.Type()), path)
					return
				}
			case reflect.Float32, reflect.Float64:
				if math.IsInf(f, 0) || math.IsNaN(f) {
					p.mismatch(n, "a finite number", path)
					return
				}
			}
		}
	}
	err := n.Decode(v.Addr().Interface())
	if err == nil {
		return
	}
	p.bad[path] = true
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te) && n.Kind == yaml.ScalarNode && !implementsAny(v.Type(), unmarshalers...):
		p.mismatch(n, want(v.Type()), path)
	case errors.As(err, &te):
		for _, msg := range te.Errors {
			line := n.Line
			if m := typeErrorLine.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			p.addForeign(line, path, convertTypeError(msg))
		}
	default:
		p.addForeign(n.Line, path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
}

var (
	typeErrorLine   = regexp.MustCompile(`^line (\d+): (.*)$`)
	cannotUnmarshal = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `.*`)? into (.+)$")
)

// convertTypeError rewrites yaml.v3's "cannot unmarshal !!str `abc` into
// int", dropping the value, which may have come from the environment.
func convertTypeError(msg string) string {
	m := cannotUnmarshal.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{
		"!!seq": "a list", "!!map": "a mapping", "!!str": "a string",
		"!!int": "an integer", "!!float": "a number", "!!bool": "a boolean",
		"!!null": "null", "!!timestamp": "a timestamp", "!!binary": "binary data",
	}[m[1]]
	if got == "" {
		got = m[1]
	}
	return fmt.Sprintf("expected %s, got %s", m[2], got)
}

func (p *parser) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		p.mismatch(n, "a mapping", path)
		return
	}
	fields, names := fieldsOf(v.Type())
	for _, e := range p.entries(n, path, 0) {
		index, ok := fields[e.key]
		if !ok {
			p.add(e.k.Line, path, unknown("key", e.key, names))
			continue
		}
		sub := join(path, e.key)
		p.pos[sub] = position{line: e.k.Line, node: resolve(e.v)}
		p.decode(e.v, v.FieldByIndex(index), sub)
	}
}

// fieldsOf maps the YAML keys of struct type t to field indexes, following
// yaml.v3's rules: the key is the tag's name or the lower-cased field name,
// "-" skips a field, ",inline" merges an embedded struct's keys (the outer
// struct's own keys win). It also returns the keys in field order.
func fieldsOf(t reflect.Type) (map[string][]int, []string) {
	fields := map[string][]int{}
	var names []string
	var inline [][]int
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, flags, _ := strings.Cut(tag, ",")
		if strings.Contains(","+flags+",", ",inline,") {
			if f.Type.Kind() == reflect.Struct {
				inline = append(inline, f.Index)
			}
			continue
		}
		if f.PkgPath != "" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := fields[name]; !dup {
			fields[name] = f.Index
			names = append(names, name)
		}
	}
	for _, index := range inline {
		sub, subNames := fieldsOf(t.FieldByIndex(index).Type)
		for _, name := range subNames {
			if _, dup := fields[name]; !dup {
				fields[name] = append(append([]int{}, index...), sub[name]...)
				names = append(names, name)
			}
		}
	}
	return fields, names
}

func (p *parser) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		p.mismatch(n, "a mapping", path)
		return
	}
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	for _, e := range p.entries(n, path, 0) {
		sub := join(path, e.key)
		p.pos[sub] = position{line: e.k.Line, node: resolve(e.v)}
		before := len(p.probs)
		key := reflect.New(t.Key()).Elem()
		if t.Key().Kind() == reflect.String && !implementsAny(t.Key(), unmarshalers...) && !implementsAny(t.Key(), textUnmarshal) {
			key.SetString(e.key) // as written, even "null" or "~"
		} else {
			p.decode(e.k, key, sub)
		}
		elem := reflect.New(t.Elem()).Elem()
		p.decode(e.v, elem, sub)
		if len(p.probs) == before {
			v.SetMapIndex(key, elem)
		}
	}
}

func (p *parser) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		p.mismatch(n, "a list", path)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		sub := path + "[" + strconv.Itoa(i) + "]"
		p.pos[sub] = position{line: item.Line, node: resolve(item)}
		p.decode(item, s.Index(i), sub)
	}
	v.Set(s)
}
