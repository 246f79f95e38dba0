package valid

import (
	"strings"
	"testing"
)

func TestConfigMapKey(t *testing.T) {
	for _, k := range []string{"A", "a.b", ".x", "x..y", "LOG_LEVEL", "a-b_c.d", strings.Repeat("k", 253)} {
		if err := ConfigMapKey(k); err != nil {
			t.Errorf("ConfigMapKey(%q) = %v", k, err)
		}
	}
	for k, want := range map[string]string{
		"":                       "is empty",
		".":                      `must not be "." or start with ".."`,
		"..":                     `must not be "." or start with ".."`,
		"..x":                    `must not be "." or start with ".."`,
		"A B":                    "may only contain letters, digits, '-', '_' and '.'",
		"a/b":                    "may only contain",
		"é":                      "may only contain",
		"a\xff":                  "may only contain",
		strings.Repeat("k", 254): "is 254 characters long; the limit is 253",
	} {
		if err := ConfigMapKey(k); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ConfigMapKey(%q) = %v, want it to say %q", k, err, want)
		}
	}
}

func TestAnnotationKey(t *testing.T) {
	for _, k := range []string{"a", "kubectl.kubernetes.io/restartedAt", "daytwo.dev/replicas-before-suspend", "Example.com/X", "a_b.c-d", strings.Repeat("n", 63)} {
		if err := AnnotationKey(k); err != nil {
			t.Errorf("AnnotationKey(%q) = %v", k, err)
		}
	}
	for k, want := range map[string]string{
		"":                             "name part must be non-empty",
		"-a":                           "must start and end with an alphanumeric character",
		"a/b/c":                        "a qualified name",
		"/a":                           "prefix part must be non-empty",
		"bad_prefix/a":                 "prefix part",
		"a b":                          "must consist of alphanumeric characters",
		strings.Repeat("n", 64):        "must be no more than 63 characters",
		"x/" + strings.Repeat("n", 64): "name part must be no more than 63 characters",
	} {
		if err := AnnotationKey(k); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "is not a valid annotation key") {
			t.Errorf("AnnotationKey(%q) = %v, want it to say %q", k, err, want)
		}
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[string][2]bool{ // label, object name
		"prod":                   {true, true},
		"eu-west-1":              {true, true},
		"api.v2":                 {false, true},
		"a..b":                   {false, false},
		"Prod":                   {false, false},
		"-a":                     {false, false},
		"":                       {false, false},
		strings.Repeat("a", 63):  {true, true},
		strings.Repeat("a", 64):  {false, true},
		strings.Repeat("a", 254): {false, false},
	} {
		if got := [2]bool{IsDNSLabel(s), IsObjectName(s)}; got != want {
			t.Errorf("%q: IsDNSLabel, IsObjectName = %v, want %v", s, got, want)
		}
	}
}

func TestImageParts(t *testing.T) {
	for _, n := range []string{"nginx", "ghcr.io/acme/web", "localhost:5000/web", "Registry.Example.com/a", "a__b/c.d-e", "[::1]:5000/x"} {
		if err := ImageName(n); err != nil {
			t.Errorf("ImageName(%q) = %v", n, err)
		}
	}
	for n, want := range map[string]string{
		"web image":              "is not valid",
		"Acme/Web":               "lower case",
		"acme/web_-x":            "is not valid",
		"acme//web":              "is not valid",
		"bad_host.io:x/web":      "registry host",
		"web:v1":                 "is not valid",
		strings.Repeat("a", 256): "the limit is 255",
	} {
		if err := ImageName(n); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ImageName(%q) = %v, want it to say %q", n, err, want)
		}
	}
	for _, tag := range []string{"v1", "_x", "1.0-rc.1", strings.Repeat("t", 128)} {
		if err := Tag(tag); err != nil {
			t.Errorf("Tag(%q) = %v", tag, err)
		}
	}
	for tag, want := range map[string]string{".v1": "not a valid tag", "-v1": "not a valid tag", "1 0": "not a valid tag", strings.Repeat("t", 129): "limit is 128"} {
		if err := Tag(tag); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Tag(%q) = %v, want it to say %q", tag, err, want)
		}
	}
	hex := strings.Repeat("0123456789abcdef", 4)
	if err := Digest("sha256:" + hex); err != nil {
		t.Errorf("Digest = %v", err)
	}
	for d, want := range map[string]string{
		"md5":                               "must be sha256",
		"sha512:" + hex + hex:               "must be sha256",
		"sha256:abc":                        "has 3 hex digits",
		"sha256:" + strings.ToUpper(hex):    "lower case",
		"sha256:" + strings.Repeat("g", 64): "must be sha256",
	} {
		if err := Digest(d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Digest(%q) = %v, want it to say %q", d, err, want)
		}
	}
}

func TestSplitImage(t *testing.T) {
	dg := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for ref, want := range map[string][3]string{
		"nginx":                     {"nginx", "", ""},
		"nginx:1.25":                {"nginx", "1.25", ""},
		"localhost:5000/web":        {"localhost:5000/web", "", ""},
		"localhost:5000/web:2":      {"localhost:5000/web", "2", ""},
		"ghcr.io/acme/web:v1@" + dg: {"ghcr.io/acme/web", "v1", dg},
		"ghcr.io/acme/web@" + dg:    {"ghcr.io/acme/web", "", dg},
		"Not/Valid:Tag Here":        {"Not/Valid", "Tag Here", ""}, // refused by the grammar: split as written
		"host:1/Img@sha256:short":   {"host:1/Img", "", "sha256:short"},
	} {
		n, tag, d := SplitImage(ref)
		if got := [3]string{n, tag, d}; got != want {
			t.Errorf("SplitImage(%q) = %q, want %q", ref, got, want)
		}
	}
}
