package metrics

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// doc.go's list is what the README quotes: it must name every wsgate_
// metric the registry exports, and nothing else.
func TestDocListsEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^//\t(wsgate_[a-z_]+)`).FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	var exported []string
	for name := range scrape(t, startServer(t, New(), nil)) {
		if strings.HasPrefix(name, "wsgate_") {
			exported = append(exported, name)
		}
	}
	slices.Sort(documented)
	slices.Sort(exported)
	if !slices.Equal(documented, exported) {
		t.Errorf("doc.go lists %v\nthe registry exports %v", documented, exported)
	}
}
