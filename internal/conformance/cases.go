package conformance

import (
	"sort"
	"strconv"
	"strings"
)

// Cases returns every case, in id order, by Autobahn's categories:
//
//	0  opening handshake (not in Autobahn)
//	1  framing: payload sizes, chopped writes, length encodings, masking
//	2  ping/pong
//	3  reserved bits
//	4  reserved opcodes
//	5  fragmentation
//	6  UTF-8 handling
//	7  close handling
//	9  large messages and many small ones (scaled to run in seconds)
//	10 auto-fragmentation
//	12 permessage-deflate, payloads
//	13 permessage-deflate, parameters
//
// Ids follow Autobahn's where Autobahn has the case; cases Autobahn lacks
// get ids past the end of its groups (1.3.x, 3.8+, 5.21+, 6.24+, 7.1.7,
// 7.3.7+, 7.9.10, 7.14.x, 9.9.x, 10.1.2+).
func Cases() []Case {
	var cs []Case
	for _, group := range [][]Case{
		handshakeCases(),
		framingCases(),
		pingPongCases(),
		reservedBitsCases(),
		reservedOpcodeCases(),
		fragmentationCases(),
		utf8Cases(),
		closeCases(),
		limitCases(),
		deflateCases(),
	} {
		cs = append(cs, group...)
	}
	sort.SliceStable(cs, func(i, j int) bool { return lessID(cs[i].ID, cs[j].ID) })
	return cs
}

// lessID orders case ids numerically per component ("2.10" after "2.9").
func lessID(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx == nil && erry == nil {
			if x != y {
				return x < y
			}
			continue
		}
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}
