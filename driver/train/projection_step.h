// projection_step.h: when and how svd-proj allocates. The schedule (Eq. 14
// and its mask timing) is the same as adalora's; at a mask step whose budget
// prunes anything, every B A is replaced by its share of the global
// truncation of the exact SVDs (reference_svd/projection.h). Between mask
// steps nothing is needed: a dropped component has a zero B column and A row
// and reset moments, so it gets no gradient and stays zero.
#pragma once

#include <cmath>

extern "C" {
#include "projection.h"
}

namespace adalora {

class ProjectionStep {
public:
    struct Result {
        bool projected = false;
        long budget = 0;
        double threshold = NAN;
    };
    ProjectionStep(ada_model *m, ada_trainer *tr, bool full_svd);
    ~ProjectionStep();
    ProjectionStep(const ProjectionStep &) = delete;
    ProjectionStep &operator=(const ProjectionStep &) = delete;
    // Whether maybe_project() will project at the end of the current step.
    bool due() const;
    // Runs at the end of the trainer's current step (before ada_trainer_allocate).
    Result maybe_project();

private:
    ada_model *model_;
    ada_trainer *trainer_;
    ref_svd_method method_;
    ref_projection *projection_ = nullptr;
};

}  // namespace adalora
