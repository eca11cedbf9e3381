package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// subjectRoot starts every subject this package uses.
const subjectRoot = "wsgate"

// roomKey is a room's name across the cluster, "KIND:NAME": "room:/chat/lobby"
// for a --shared or --mux path, "resume:<token hash>" for a --resume
// session. A URL path holds characters that NATS subjects and KV keys do
// not allow ('.', '*', '>', ' ', ':'), so both are made from a hash of NAME.
type roomKey struct {
	full string // as given
	kind string
	id   string // hex of the first 16 bytes of SHA-256(NAME)
}

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

func parseKey(key string) (roomKey, error) {
	kind, name, ok := strings.Cut(key, ":")
	if !ok || !kindPattern.MatchString(kind) || name == "" {
		return roomKey{}, fmt.Errorf("cluster key %q: want KIND:NAME with KIND in [a-z0-9] (room:/path, resume:hash)", key)
	}
	sum := sha256.Sum256([]byte(name))
	return roomKey{full: key, kind: kind, id: hex.EncodeToString(sum[:16])}, nil
}

// kvKey is the room's key in the owners bucket: "room.<id>".
func (k roomKey) kvKey() string { return k.kind + "." + k.id }

// subject is one of the room's subjects: "wsgate.room.<id>.out".
func (k roomKey) subject(suffix string) string {
	return subjectRoot + "." + k.kind + "." + k.id + "." + suffix
}

// instancePattern is what an InstanceID may be: a subject token.
var instancePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
