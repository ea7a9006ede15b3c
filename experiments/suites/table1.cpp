// table1.cpp: the table1 suite (table1.toml) on the pretrained encoder.
#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

SuiteDef table1() {
    SuiteDef d;
    d.name = "table1";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "trainable_params_final"});
    return d;
}

}  // namespace adalora::suites
