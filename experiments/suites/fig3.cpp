// fig3.cpp: the fig3 suite (fig3.toml) on the pretrained encoder.
#include "harness/report.h"
#include "suites/common.h"

namespace adalora::suites {

using namespace report;

SuiteDef fig3() {
    SuiteDef d;
    d.name = "fig3";
    d.metrics = standard_metrics({"final_test_accuracy", "final_dev_accuracy", "trainable_params_final"});
    return d;
}

}  // namespace adalora::suites
