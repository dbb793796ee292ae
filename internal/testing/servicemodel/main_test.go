package servicemodel_test

import (
	"testing"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// TestMain starts one Mongo wire server (FerretDB, or MONGO_TEST_URI) for the real side
// of the contract suite.
func TestMain(m *testing.M) { platformtest.Main(m) }
