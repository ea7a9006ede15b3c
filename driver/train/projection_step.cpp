// projection_step.cpp: svd-proj's allocation, timed by the schedule.
#include "train/projection_step.h"

#include <stdexcept>
#include <string>

#include "base/lib_status.h"

namespace adalora {

ProjectionStep::ProjectionStep(ada_model *m, ada_trainer *tr, bool full_svd)
    : model_(m), trainer_(tr), method_(full_svd ? REF_SVD_FULL : REF_SVD_QR) {
    check(ref_projection_create(&projection_, m), "svd-proj workspace");
}

ProjectionStep::~ProjectionStep() { ref_projection_free(projection_); }

namespace {
// The budget of the trainer's current step, and whether svd-proj projects then:
// at a mask step whose budget prunes anything (keeping every component would
// change nothing but the factorisation).
bool projection_due(const ada_trainer *tr, const ada_model *m, long *budget) {
    ada_mask_action action;
    check(ada_trainer_schedule_now(tr, budget, nullptr, &action), "schedule");
    return action == ADA_ACTION_MASK && *budget < m->n_triplets;
}
}  // namespace

bool ProjectionStep::due() const {
    long budget;
    return projection_due(trainer_, model_, &budget);
}

ProjectionStep::Result ProjectionStep::maybe_project() {
    Result r;
    if (!projection_due(trainer_, model_, &r.budget)) return r;
    ref_projection_info info;
    check(ref_svd_project(projection_, model_, trainer_, r.budget, method_, &info), "svd-proj");
    r.projected = true;
    r.threshold = info.threshold;
    return r;
}

}  // namespace adalora
