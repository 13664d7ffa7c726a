// Package buildinfo says which vqs produced a result: every run record and every --json
// output carries Version, so that a number can be traced to the code that computed it.
package buildinfo

import "runtime/debug"

// version is set at build time by the Makefile:
//
//	go build -ldflags "-X vqs/buildinfo.version=$(git describe --always --dirty)"
var version = ""

// Base is the release this code builds toward, used when no build-time version is set.
const Base = "0.2.0-dev"

// Version returns the program version: the one set at build time, else Base with the VCS
// revision Go stamped into the binary (go build in a git checkout does), else Base.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v := Base + "+" + rev
			if dirty {
				v += "-dirty"
			}
			return v
		}
	}
	return Base
}
