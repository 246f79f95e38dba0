package command

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	ok := []string{"prod", "a", "0", "eu-west-1", strings.Repeat("a", 63)}
	for _, s := range ok {
		if err := ValidateName("environment", s); err != nil {
			t.Errorf("ValidateName(%q) = %v", s, err)
		}
	}
	bad := map[string]string{
		"":                      "is empty",
		"-prod":                 "starting and ending",
		"prod-":                 "starting and ending",
		"Prod":                  `must be lower case: "prod"`,
		"..":                    `".."`,
		"a..b":                  `".."`,
		"/etc":                  "is a path",
		`\x`:                    "is a path",
		"a/b":                   "slash",
		"pr od":                 "not valid",
		"pr\tod":                "U+0009",
		"pr\u200bod":            "U+200B",
		"prоd":                  "U+043E",
		"ｐrod":                  "U+FF50",
		"prod\u2215x":           "U+2215",
		"ü":                     "non-ASCII",
		"a\xff":                 "UTF-8",
		strings.Repeat("a", 64): "limit is 63",
	}
	for s, sub := range bad {
		err := ValidateName("environment", s)
		if err == nil || !strings.Contains(err.Error(), sub) {
			t.Errorf("ValidateName(%q) = %v, want it to say %q", s, err, sub)
		}
	}
}

func TestParseImageRef(t *testing.T) {
	dg := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	ok := map[string]ImageRef{
		"v1.2.3":                           {Tag: "v1.2.3"},
		"latest":                           {Tag: "latest"},
		"nginx:1.25":                       {Name: "nginx", Tag: "1.25"},
		"ghcr.io/acme/web:v1":              {Name: "ghcr.io/acme/web", Tag: "v1"},
		"localhost:5000/web:1":             {Name: "localhost:5000/web", Tag: "1"},
		"registry.example.com:443/a/b/c:x": {Name: "registry.example.com:443/a/b/c", Tag: "x"},
		"Registry.Example.com/a:1":         {Name: "Registry.Example.com/a", Tag: "1"},
		"a__b/c.d-e:1":                     {Name: "a__b/c.d-e", Tag: "1"},
		"web@" + dg:                        {Name: "web", Digest: dg},
		"web:v1@" + dg:                     {Name: "web", Tag: "v1", Digest: dg},
		"@" + dg:                           {Digest: dg},
		"side=v2":                          {Container: "side", Tag: "v2"},
		"side=ghcr.io/a/b@" + dg:           {Container: "side", Name: "ghcr.io/a/b", Digest: dg},
		strings.Repeat("t", 128):           {Tag: strings.Repeat("t", 128)},
		"_under":                           {Tag: "_under"},
	}
	for in, want := range ok {
		got, err := ParseImageRef(in)
		if err != nil || got != want {
			t.Errorf("ParseImageRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if err == nil && got.String() != in {
			t.Errorf("ImageRef(%q).String() = %q", in, got.String())
		}
	}
	bad := map[string]string{
		"":                                      "empty",
		"ghcr.io/acme/web":                      "no tag or digest",
		".v1":                                   "not a valid tag",
		"-v1":                                   "not a valid tag",
		strings.Repeat("t", 129):                "limit is 128",
		"web:":                                  "empty tag",
		":v1":                                   "empty image name",
		"=v1":                                   "empty container",
		"Side=v1":                               "lower case",
		"side=":                                 "no image",
		"web@sha256:" + strings.Repeat("A", 64): "lower case",
		"web@sha256:abc":                        "has 3 hex digits",
		"web@md5:" + strings.Repeat("a", 64):    "must be sha256",
		"Acme/Web:1":                            "lower case",
		"acme/web_-x:1":                         "not valid",
		"acme//web:1":                           "not valid",
		"bad_host.io:x/web:1":                   "registry host",
		"web:v\u200b1":                          "U+200B",
	}
	for in, sub := range bad {
		_, err := ParseImageRef(in)
		if err == nil || !strings.Contains(err.Error(), sub) {
			t.Errorf("ParseImageRef(%q) err = %v, want it to say %q", in, err, sub)
		}
	}
}

func TestConfigLiterals(t *testing.T) {
	kv, err := ParseConfigLiteral("URL=http://x/?a=b c")
	if err != nil || kv != (KeyValue{Key: "URL", Value: "http://x/?a=b c"}) {
		t.Errorf("ParseConfigLiteral = %+v, %v", kv, err)
	}
	bad := map[string]string{
		"NOEQUALS":                      "not KEY=VALUE",
		"=v":                            "empty",
		".=v":                           `"."`,
		"..a=v":                         `".."`,
		"a b=v":                         "may only contain",
		strings.Repeat("k", 254) + "=v": "limit is 253",
		"K=line\x00":                    "U+0000",
		"K=\u202egnp.exe":               "U+202E",
		"K=a\tb":                        "U+0009",
	}
	for in, sub := range bad {
		_, err := ParseConfigLiteral(in)
		if err == nil || !strings.Contains(err.Error(), sub) {
			t.Errorf("ParseConfigLiteral(%q) err = %v, want it to say %q", in, err, sub)
		}
	}
	if err := ValidateConfigKey(strings.Repeat("k", 253)); err != nil {
		t.Errorf("a 253-character key: %v", err)
	}
}

func TestValidateWorkload(t *testing.T) {
	for _, ok := range []string{"ledger", "ledger-staging", "StatefulSet/ledger-staging", "deployment/api", "api.v2", strings.Repeat("a", 253)} {
		if err := ValidateWorkload(ok); err != nil {
			t.Errorf("ValidateWorkload(%q): %v", ok, err)
		}
	}
	for s, want := range map[string]string{
		"":                        "is empty",
		"Ledger":                  "is not valid",
		"/ledger":                 "must be <name> or <Kind>/<name>",
		"Stateful Set/ledger":     "must be <name> or <Kind>/<name>",
		"StatefulSet/":            "is not valid",
		"a..b":                    "is not valid",
		strings.Repeat("a", 254):  "the limit is 253",
		"ledger\u200b":            "invisible",
		"StatefulSet/ledger/prod": "is not valid",
	} {
		err := ValidateWorkload(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateWorkload(%q) = %v, want %q", s, err, want)
		}
	}
}

func TestCommitAndReplicas(t *testing.T) {
	if got, err := ValidateCommit("ABCDEF0"); err != nil || got != "abcdef0" {
		t.Errorf("ValidateCommit = %q, %v", got, err)
	}
	for _, s := range []string{"abc", strings.Repeat("a", 41), "ghijklm", ""} {
		if _, err := ValidateCommit(s); err == nil {
			t.Errorf("ValidateCommit(%q) accepted", s)
		}
	}
	for s, want := range map[string]int{"0": 0, "1000": 1000, "007": 7} {
		if got, err := ParseReplicas(s); err != nil || got != want {
			t.Errorf("ParseReplicas(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "1001", "+1", "-1", "1.5", "1e3", "٣"} {
		if _, err := ParseReplicas(s); err == nil {
			t.Errorf("ParseReplicas(%q) accepted", s)
		}
	}
}
