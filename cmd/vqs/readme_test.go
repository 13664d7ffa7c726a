package main

import (
	"bufio"
	"context"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's checked examples with what the program prints now")

// readmeExample is one "$ vqs ..." block of README.md: the command and the output printed
// under it (4-space indented, up to the next blank line).
type readmeExample struct {
	cmd        string
	out        []string
	start, end int // lines of the output in the README
}

func readmeExamples(t *testing.T) ([]string, []readmeExample) {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var ex []readmeExample
	for i := 0; i < len(lines); i++ {
		c, ok := strings.CutPrefix(lines[i], "    $ vqs ")
		if !ok {
			continue
		}
		e := readmeExample{cmd: c, start: i + 1}
		j := i + 1
		for ; j < len(lines) && strings.HasPrefix(lines[j], "    ") && !strings.HasPrefix(lines[j], "    $ "); j++ {
			e.out = append(e.out, strings.TrimPrefix(lines[j], "    "))
		}
		e.end = j
		ex = append(ex, e)
		i = j - 1
	}
	return lines, ex
}

// volatile lines depend on the machine or the moment, not on the physics; machineDependent
// parts of other lines are masked before comparing.
var (
	volatile         = regexp.MustCompile(`^(time|wall time|seconds|version)\b|^\s*$`)
	machineDependent = regexp.MustCompile(`[0-9.e+]+ GiB available|[0-9.e+]+ effective samples/s`)
)

func mask(l string) string {
	return machineDependent.ReplaceAllStringFunc(strings.TrimRight(l, " "), func(m string) string {
		if strings.HasSuffix(m, "GiB available") {
			return "N GiB available"
		}
		return "N effective samples/s"
	})
}

// The README's quick examples print what the program prints. An example whose output contains
// "..." is abridged and not checked; one whose command ends in a "# comment" (the slow ones:
// "# about a minute") is checked only under VQS_SLOW=1. Examples run in a fresh directory.
func TestReadmeExamples(t *testing.T) {
	lines, ex := readmeExamples(t)
	readme, _ := os.Getwd()
	readme += "/../../README.md"
	t.Chdir(t.TempDir())
	if len(ex) < 4 {
		t.Fatalf("found %d examples in README.md", len(ex))
	}
	slow := os.Getenv("VQS_SLOW") != ""
	changed := false
	slices.Reverse(ex) // from the end, so that rewriting an example keeps the others' line numbers
	for _, e := range ex {
		abridged := false
		for _, l := range e.out {
			if strings.Contains(l, "...") {
				abridged = true
			}
		}
		cmdline, _, marked := strings.Cut(e.cmd, " #")
		if abridged || (marked && !slow) {
			continue
		}
		args := strings.Fields(cmdline)
		got, err := run(t, context.Background(), args...)
		if err != nil {
			got += "vqs: error: " + oneLine(err) + "\n"
		}
		gotLines := strings.Split(strings.TrimRight(got, "\n"), "\n")
		if *updateReadme {
			var indented []string
			for _, l := range gotLines {
				indented = append(indented, "    "+l)
			}
			lines = append(lines[:e.start], append(indented, lines[e.end:]...)...)
			changed = true
			continue
		}
		var want, have []string
		for _, l := range e.out {
			if !volatile.MatchString(l) {
				want = append(want, mask(l))
			}
		}
		for _, l := range gotLines {
			if !volatile.MatchString(l) {
				have = append(have, mask(l))
			}
		}
		if strings.Join(want, "\n") != strings.Join(have, "\n") {
			t.Errorf("README example `vqs %s` prints\n%s\nbut the README says\n%s", cmdline, strings.Join(have, "\n"), strings.Join(want, "\n"))
		}
	}
	if changed {
		if len(ex) > 0 {
			t.Log("examples rewritten; rerun without -update-readme")
		}
		if err := os.WriteFile(readme, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
