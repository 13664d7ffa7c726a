// Package deps pins modules that the project uses in several packages, so that go.mod keeps
// them while those packages are written side by side. go4.org/unsafe/assume-no-moving-gc must
// stay at its newest pseudo-version or gorgonia panics at start-up (shared/GORGONIA.md).
package deps

import (
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/gonum/stat"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
