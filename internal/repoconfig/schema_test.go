package repoconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const schemaFile = "../../docs/daytwo.schema.json"

// TestSchemaUpToDate: docs/daytwo.schema.json is what JSONSchema generates (-update rewrites it).
func TestSchemaUpToDate(t *testing.T) {
	got, err := JSONSchema(commands)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale; run go test ./internal/repoconfig -run TestSchemaUpToDate -update", schemaFile)
	}
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchemaCoversTypes: every YAML field of the Go types is a property of the published
// schema, and every property is a field.
func TestSchemaCoversTypes(t *testing.T) {
	s := loadSchema(t)
	defs := s["definitions"].(map[string]any)
	check := func(typ reflect.Type, obj map[string]any) {
		_, fields := yamlFields(typ)
		props := obj["properties"].(map[string]any)
		var names []string
		for k := range props {
			names = append(names, k)
		}
		slices.Sort(names)
		slices.Sort(fields)
		if !slices.Equal(names, fields) {
			t.Errorf("%s: schema properties %v, Go fields %v", typ.Name(), names, fields)
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s: schema must refuse unknown keys", typ.Name())
		}
	}
	check(reflect.TypeOf(Config{}), s)
	seen := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == timeType || seen[typ.Name()] {
			return
		}
		seen[typ.Name()] = true
		if typ != reflect.TypeOf(Config{}) {
			def, ok := defs[typ.Name()].(map[string]any)
			if !ok {
				t.Errorf("schema has no definition of %s", typ.Name())
				return
			}
			check(typ, def)
		}
		for i := 0; i < typ.NumField(); i++ {
			walk(typ.Field(i).Type)
		}
	}
	walk(reflect.TypeOf(Config{}))
	for name := range defs {
		if !seen[name] {
			t.Errorf("schema defines %s, which no config type uses", name)
		}
	}
}

// TestSchemaValidates: the example configs pass the schema, and it refuses what Load refuses
// structurally.
func TestSchemaValidates(t *testing.T) {
	s := loadSchema(t)
	files, _ := filepath.Glob("../../examples/*/.github/daytwo.yml")
	files = append(files, "testdata/full.yml")
	if len(files) < 3 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := validateYAML(t, s, b); len(errs) > 0 {
			t.Errorf("%s: %s", f, strings.Join(errs, "; "))
		}
	}
	bad := []struct{ src, want string }{
		{"version: 1\nenvironments: [{name: dev, replica: 1}]\nservices: [{name: web}]\n", "/environments/0: unknown key replica"},
		{"version: 2\nenvironments: [{name: dev}]\nservices: [{name: web}]\n", "/version: want 1"},
		{"version: 1\nservices: [{name: web}]\n", "/: missing environments"},
		{"version: 1\nenvironments: []\nservices: [{name: web}]\n", "/environments: fewer than 1 items"},
		{"version: 1\nenvironments: [{name: Dev}]\nservices: [{name: web}]\n", "/environments/0/name: does not match"},
		{"version: 1\nenvironments: [{name: dev, requesters: {scael: {}}}]\nservices: [{name: web}]\n", "/environments/0/requesters: key scael not allowed"},
		{"version: 1\nenvironments: [{name: dev, requesters: {scale: {permission: writer}}}]\nservices: [{name: web}]\n", "/environments/0/requesters/scale/permission: not one of"},
		{"version: 1\nenvironments: [{name: dev, replicas: {max: -1}}]\nservices: [{name: web}]\n", "/environments/0/replicas/max: below minimum"},
		{"version: 1\nenvironments: [{name: dev, argocd: {timeout: 600}}]\nservices: [{name: web}]\n", "/environments/0/argocd/timeout: want string"},
		{"version: 1\nenvironments: [{name: dev}]\nservices: [{name: web, workload: {kind: Job}}]\n", "/services/0/workload/kind: not one of"},
		{"version: 1\nenvironments: [{name: dev, breakGlass: {teams: [sre]}}]\nservices: [{name: web}]\n", "/environments/0/breakGlass/teams/0: does not match"},
		{"version: 1\nenvironments: [{name: dev, workflows: [{name: x, workflow: ci/a.yml}]}]\nservices: [{name: web}]\n", "/environments/0/workflows/0/workflow: does not match"},
		{"version: 1\nenvironments: [{name: dev}]\nservices: [{name: web, workflows: [{name: x}]}]\n", "/services/0/workflows/0: missing workflow"},
	}
	for _, tt := range bad {
		errs := validateYAML(t, s, []byte(tt.src))
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, tt.want) }) {
			t.Errorf("%q: errors %v, want one starting %q", tt.src, errs, tt.want)
		}
	}
}

func validateYAML(t *testing.T, schema map[string]any, src []byte) []string {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	v := &schemaValidator{root: schema}
	v.validate(schema, jsonish(doc), "/")
	return v.errs
}

// jsonish turns decoded YAML into what a JSON decoder would give for the same data.
func jsonish(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonish(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonish(e)
		}
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case int:
		return float64(x)
	}
	return v
}

// schemaValidator implements the part of JSON Schema draft-07 the config schema uses.
type schemaValidator struct {
	root map[string]any
	errs []string
}

func (v *schemaValidator) fail(at, format string, args ...any) {
	v.errs = append(v.errs, at+": "+fmt.Sprintf(format, args...))
}

func child(at, key string) string { return strings.TrimSuffix(at, "/") + "/" + key }

func (v *schemaValidator) validate(s map[string]any, doc any, at string) {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		v.validate(v.root["definitions"].(map[string]any)[name].(map[string]any), doc, at)
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			v.validate(sub.(map[string]any), doc, at)
		}
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, doc) {
		v.fail(at, "want %v", c)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, doc) {
		v.fail(at, "not one of %v", enum)
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		m, ok := doc.(map[string]any)
		if !ok {
			v.fail(at, "want object")
			return
		}
		v.object(s, m, at)
	case "array":
		a, ok := doc.([]any)
		if !ok {
			v.fail(at, "want array")
			return
		}
		if min, ok := s["minItems"].(float64); ok && float64(len(a)) < min {
			v.fail(at, "fewer than %v items", min)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range a {
				v.validate(items, e, child(at, fmt.Sprint(i)))
			}
		}
	case "string":
		str, ok := doc.(string)
		if !ok {
			v.fail(at, "want string")
			return
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			v.fail(at, "does not match %s", p)
		}
	case "integer":
		n, ok := doc.(float64)
		if !ok || n != float64(int64(n)) {
			v.fail(at, "want integer")
			return
		}
		if min, ok := s["minimum"].(float64); ok && n < min {
			v.fail(at, "below minimum %v", min)
		}
		if max, ok := s["maximum"].(float64); ok && n > max {
			v.fail(at, "above maximum %v", max)
		}
	case "boolean":
		if _, ok := doc.(bool); !ok {
			v.fail(at, "want boolean")
		}
	}
}

func (v *schemaValidator) object(s map[string]any, m map[string]any, at string) {
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				v.fail(at, "missing %s", r)
			}
		}
	}
	props, _ := s["properties"].(map[string]any)
	patterns, _ := s["patternProperties"].(map[string]any)
	names, _ := s["propertyNames"].(map[string]any)
	for k, val := range m {
		if names != nil {
			if enum, ok := names["enum"].([]any); ok && !slices.Contains(enum, any(k)) {
				v.fail(at, "key %s not allowed", k)
				continue
			}
		}
		if p, ok := props[k].(map[string]any); ok {
			v.validate(p, val, child(at, k))
			continue
		}
		matched := false
		for pat := range patterns {
			if regexp.MustCompile(pat).MatchString(k) {
				matched = true
			}
		}
		if matched {
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				v.fail(at, "unknown key %s", k)
			}
		case map[string]any:
			v.validate(ap, val, child(at, k))
		}
	}
}
