// registry.cpp: the table of suites (registry.h), one row per suite.
#include "suites/registry.h"

namespace adalora::suites {

// Each defined in experiments/suites/<name>.cpp.
report::SuiteDef allocation();
report::SuiteDef table4();
report::SuiteDef table5();
report::SuiteDef svd_cost();
report::SuiteDef revival();
report::SuiteDef orthogonality();
report::SuiteDef schedule();
report::SuiteDef digits();
report::SuiteDef conventions();
report::SuiteDef conventions_encoder();
report::SuiteDef sentiment();

const report::Registry &registry() {
    static const report::Registry table = {
        allocation(), table4(), table5(), svd_cost(), revival(), orthogonality(), schedule(), digits(), conventions(), conventions_encoder(), sentiment(),
    };
    return table;
}

}  // namespace adalora::suites
