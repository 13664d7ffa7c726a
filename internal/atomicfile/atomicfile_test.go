package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReplaceAndCreate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := Replace(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Replace(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("Replace left %q", b)
	}
	if err := Create(p, []byte("three")); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("a refused Create changed the file to %q", b)
	}
	q := filepath.Join(dir, "b.json")
	if err := Create(q, []byte("new")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// A write into a directory that cannot take it fails and leaves nothing behind.
func TestWriteFailureLeavesNothing(t *testing.T) {
	if err := Replace(filepath.Join(t.TempDir(), "missing", "x"), []byte("x")); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	if err := Replace(filepath.Join(dir, "x"), []byte("x")); err == nil {
		t.Fatal("write into a read-only directory succeeded")
	}
}
