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
report::SuiteDef table1();
report::SuiteDef fig1();
report::SuiteDef fig3();
report::SuiteDef table4_encoder();
report::SuiteDef table5_encoder();
report::SuiteDef schedule_encoder();
report::SuiteDef lr_select();

const report::Registry &registry() {
    static const report::Registry table = {
        // The pretrained encoder: the paper's ablations (the report's first part) ...
        lr_select(), table1(), table4_encoder(), table5_encoder(), fig1(), fig3(), schedule_encoder(), conventions_encoder(), sentiment(),
        // ... then the synthetic tasks, tests against a known optimum.
        allocation(), table4(), table5(), svd_cost(), revival(), orthogonality(), schedule(), digits(), conventions(),
    };
    return table;
}

}  // namespace adalora::suites
