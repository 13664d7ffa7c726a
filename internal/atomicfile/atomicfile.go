// Package atomicfile writes files so that a reader, or a process killed mid-write (kill -9, a
// full disk, a power cut), never sees a partial file: the data go to a temporary file in the
// same directory, are synced, and then take the final name in one step. It is the one
// implementation behind checkpoints, run records and every other file vqs writes whole.
package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by Create when the target already exists.
var ErrExists = errors.New("file exists")

// TempPrefix starts the names of temporary files, so that directory readers can skip writes in
// progress.
const TempPrefix = ".tmp-"

// Replace writes data to path, replacing any existing file atomically.
func Replace(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// Create writes data to path, failing with ErrExists (wrapped) if path exists. Where the file
// system has hard links the check and the creation are one atomic step, so concurrent writers
// of the same name never clobber each other; elsewhere a check precedes the rename.
func Create(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after a successful link the file keeps its own name
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		if rerr := os.Rename(tmp, path); rerr != nil {
			return fmt.Errorf("write %s: %w", path, rerr)
		}
	}
	syncDir(filepath.Dir(path))
	return nil
}

// ReplaceJSON writes v as indented JSON with Replace.
func ReplaceJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return Replace(path, append(b, '\n'))
}

func writeTemp(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tmp, nil
}

// syncDir makes a new directory entry durable; failures are ignored because some systems
// cannot sync directories and the file itself is already complete.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
