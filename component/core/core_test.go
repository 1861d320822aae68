package core

import (
	"testing"

	"xmppgw/component/router"
)

type noRoutes struct{}

func (noRoutes) Routes() []router.Route { return nil }

func TestRegister(t *testing.T) {
	before := len(Modules())
	Register(Module{Name: "test-a", New: func(Core) Instance { return noRoutes{} }})
	if got := Modules(); len(got) != before+1 || got[len(got)-1].Name != "test-a" {
		t.Fatalf("modules %+v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Register(Module{Name: "test-a"})
}
