// run_state.cpp: copying a run's tensors out of and into the model and trainer.
#include "train/run_state.h"

#include <algorithm>

#include "config/run_config.h"

namespace adalora {

namespace {
template <class T> void copy_out(std::vector<T> &to, const T *from, size_t n) { to.assign(from, from + n); }

template <class T> void check_size(const std::vector<T> &v, size_t want, const char *name) {
    if (v.size() != want)
        throw UsageError(std::string("checkpoint: tensor ") + name + " has " + std::to_string(v.size()) +
                         " entries, this run's model has " + std::to_string(want));
}
}  // namespace

void capture(TrainState &s, const ada_model *m, const ada_trainer *tr) {
    const size_t n = m->n_params, nt = (size_t)m->n_triplets;
    copy_out(s.params, m->params, n);
    copy_out(s.m1, tr->m1, n);
    copy_out(s.m2, tr->m2, n);
    copy_out(s.ibar, tr->ibar, n);
    copy_out(s.ubar, tr->ubar, n);
    copy_out(s.scores, tr->scores, nt);
    copy_out(s.keep, m->keep, nt);
    copy_out(s.prev_keep, tr->prev_keep, nt);
    s.completed = tr->completed;
    s.updates = tr->updates;
}

void restore(const TrainState &s, ada_model *m, ada_trainer *tr) {
    const size_t n = m->n_params, nt = (size_t)m->n_triplets;
    check_size(s.params, n, "params");
    check_size(s.m1, n, "m1");
    check_size(s.m2, n, "m2");
    check_size(s.ibar, n, "ibar");
    check_size(s.ubar, n, "ubar");
    check_size(s.scores, nt, "scores");
    check_size(s.keep, nt, "keep");
    check_size(s.prev_keep, nt, "prev_keep");
    std::copy(s.params.begin(), s.params.end(), m->params);
    std::copy(s.m1.begin(), s.m1.end(), tr->m1);
    std::copy(s.m2.begin(), s.m2.end(), tr->m2);
    std::copy(s.ibar.begin(), s.ibar.end(), tr->ibar);
    std::copy(s.ubar.begin(), s.ubar.end(), tr->ubar);
    std::copy(s.scores.begin(), s.scores.end(), tr->scores);
    std::copy(s.keep.begin(), s.keep.end(), m->keep);
    std::copy(s.prev_keep.begin(), s.prev_keep.end(), tr->prev_keep);
    tr->completed = (long)s.completed;
    tr->updates = (long)s.updates;
}

}  // namespace adalora
