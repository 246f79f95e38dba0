package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSHA(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "0123456": "0123456", "0123456789abcdef0123456789abcdef01234567": "0123456"} {
		if got := SHA(in); got != want {
			t.Errorf("SHA(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBytes(t *testing.T) {
	if got := Bytes("short", 10, "…"); got != "short" {
		t.Errorf("Bytes kept = %q", got)
	}
	if got := Bytes("abcdef", 3, " …"); got != "abc …" {
		t.Errorf("Bytes cut = %q", got)
	}
	// "é" is two bytes: a cut inside it moves before it.
	if got := Bytes("aéb", 2, "…"); got != "a…" {
		t.Errorf("Bytes in a character = %q", got)
	}
	if got := Bytes(strings.Repeat("é", 300), 201, "…"); !utf8.ValidString(got) || len(got) > 201+len("…") {
		t.Errorf("Bytes = %q (%d bytes)", got, len(got))
	}
}

func TestRunes(t *testing.T) {
	if got := Runes("héllo", 5); got != "héllo" {
		t.Errorf("Runes kept = %q", got)
	}
	if got := Runes("héllo world", 5); got != "héll…" || utf8.RuneCountInString(got) != 5 {
		t.Errorf("Runes cut = %q", got)
	}
}

func TestLines(t *testing.T) {
	s := "one\ntwo\nthree\n"
	if got := Lines(s, len(s), "[cut]"); got != s {
		t.Errorf("Lines kept = %q", got)
	}
	if got := Lines(s, 9, "[cut]"); got != "one\ntwo\n[cut]" {
		t.Errorf("Lines cut at a line = %q", got)
	}
	if got := Lines("ééééé", 5, "[cut]"); got != "éé[cut]" {
		t.Errorf("Lines without a line break = %q", got)
	}
}
