package learned

import "math"

// cnn writes the network's output at level into dst (length N), in plain Go and without
// allocating. It must equal the gorgonia graph's forward pass (tested to 1e-10).
func (m *Model) cnn(dst, phi []float64, level int) {
	C := m.cfg.Channels
	n := m.geo.n
	in, cin := phi, 1
	bufs := [2][]float64{m.bufA, m.bufB}
	for l := 0; l < m.cfg.Layers; l++ {
		out := bufs[l%2]
		periodicConv(m.geo, out, in, m.p.conv[l], cin, C)
		gains := m.p.gain[l][level*C : (level+1)*C]
		for c, g := range gains {
			h := out[c*n : (c+1)*n]
			for x, u := range h {
				h[x] = math.Tanh(g * u)
			}
		}
		in, cin = out, C
	}
	periodicConv(m.geo, dst, in, m.p.conv[m.cfg.Layers], cin, 1)
	lin := m.uniformResponse(level)
	s := m.p.out[level]
	for x := range dst {
		dst[x] = s * (dst[x] - lin*phi[x])
	}
}

// uniformResponse returns d net/d phi for a uniform field at phi = 0, the network's own
// contribution to the mass. The CNN subtracts it so that the k = 0 linear response of the
// score is S_eff's m2 alone: otherwise the CNN can take over part of the mass term at no cost
// in the loss, and the learned m2 drifts. For a uniform field each convolution multiplies by
// its kernel summed over positions, a (cout, cin) matrix, and tanh'(0) = 1.
func (m *Model) uniformResponse(level int) float64 {
	C := m.cfg.Channels
	u, next := m.chanA, m.chanB
	u[0] = 1
	cin := 1
	for l := 0; l <= m.cfg.Layers; l++ {
		cout := C
		if l == m.cfg.Layers {
			cout = 1
		}
		w := m.p.conv[l]
		taps := m.geo.ky * m.geo.kx
		for o := 0; o < cout; o++ {
			sum := 0.0
			for dz := 0; dz < m.geo.kz; dz++ {
				for c := 0; c < cin; c++ {
					base := ((o*m.geo.kz+dz)*cin + c) * taps
					ws := 0.0
					for _, x := range w[base : base+taps] {
						ws += x
					}
					sum += ws * u[c]
				}
			}
			if l < m.cfg.Layers {
				sum *= m.p.gain[l][level*C+o]
			}
			next[o] = sum
		}
		u, next = next, u
		cin = cout
	}
	return u[0]
}

// periodicConv writes the periodic cross-correlation of in (cin channels of N sites) with the
// filter w (cout, kz*cin, ky, kx) to out (cout channels):
//
//	out[o](z,y,x) = sum_{dz,c,dy,dx} w[o][dz*cin+c][dy][dx] in[c](z+dz-pz, y+dy-py, x+dx-px)
//
// with p = (k-1)/2 along each axis and the coordinates taken modulo the lattice, which is what
// gorgonia's Conv2d computes on the periodically padded and z-stacked input.
func periodicConv(g geometry, out, in, w []float64, cin, cout int) {
	n := g.n
	pz, py, px := g.kz/2, g.ky/2, g.kx/2
	clear(out[:cout*n])
	j := 0
	for o := 0; o < cout; o++ {
		dstC := out[o*n : (o+1)*n]
		for dz := 0; dz < g.kz; dz++ {
			sz := mod(dz-pz, g.nz)
			for c := 0; c < cin; c++ {
				srcC := in[c*n : (c+1)*n]
				for dy := 0; dy < g.ky; dy++ {
					sy := mod(dy-py, g.ny)
					for dx := 0; dx < g.kx; dx++ {
						sx := mod(dx-px, g.nx)
						wt := w[j]
						j++
						for z := 0; z < g.nz; z++ {
							zs := z + sz
							if zs >= g.nz {
								zs -= g.nz
							}
							for y := 0; y < g.ny; y++ {
								ys := y + sy
								if ys >= g.ny {
									ys -= g.ny
								}
								d := dstC[(z*g.ny+y)*g.nx : (z*g.ny+y+1)*g.nx]
								s := srcC[(zs*g.ny+ys)*g.nx : (zs*g.ny+ys+1)*g.nx]
								axpyShift(d, s, wt, sx)
							}
						}
					}
				}
			}
		}
	}
}

// axpyShift adds wt*s[(x+sx) mod len] to d[x], with 0 <= sx < len(s).
func axpyShift(d, s []float64, wt float64, sx int) {
	nx := len(d)
	head := d[:nx-sx]
	src := s[sx:]
	for x := range head {
		head[x] += wt * src[x]
	}
	tail := d[nx-sx:]
	for x := range tail {
		tail[x] += wt * s[x]
	}
}

func mod(a, n int) int { return ((a % n) + n) % n }
