// config_json.cpp: a run's options as JSON.
#include "train/config_json.h"

#include "config/conventions.h"

namespace adalora {

namespace {

// The options every task has (and the MLP tasks' own).
nlohmann::json mlp_config_json(const RunConfig &c) {
    return {{"task", c.task}, {"method", c.method}, {"seed", c.seed},
            {"init_r", c.init_r}, {"target_r", c.target_r}, {"target_budget", c.target_budget},
            {"tinit", c.tinit}, {"tfinal", c.tfinal}, {"deltaT", c.deltaT}, {"total_step", c.total_step},
            {"beta1", c.beta1}, {"beta2", c.beta2}, {"orth_reg_weight", c.orth_reg_weight},
            {"lora_alpha", c.lora_alpha}, {"lora_r", c.lora_r}, {"lr", c.lr}, {"weight_decay", c.weight_decay},
            {"clip", c.clip}, {"convention", c.convention}, {"convention_rows", c.convention_rows}, {"batch", c.batch}, {"importance", c.importance}, {"no_prune", c.no_prune}, {"hard_delete", c.hard_delete},
            {"svd", c.svd}, {"log_every", c.log_every}, {"log", c.log}, {"mask_jump", c.mask_jump}, {"on_nonfinite", c.on_nonfinite}, {"width", c.task_opt.width}, {"layers", c.task_opt.layers},
            {"planted_ranks", c.task_opt.planted_ranks}, {"noise", c.task_opt.noise},
            {"train_rows", c.task_opt.train_rows}, {"test_rows", c.task_opt.test_rows},
            {"data_dir", c.task_opt.data_dir}, {"cache_dir", c.task_opt.cache_dir},
            {"pretrain_steps", c.task_opt.pretrain_steps}, {"pretrain_seed", c.task_opt.pretrain_seed},
            {"base_weights", c.task_opt.base_weights}};
}

}  // namespace

nlohmann::json config_json(const RunConfig &c) {
    nlohmann::json j = mlp_config_json(c);
    if (is_encoder_task(c.task)) {  // only then: the MLP tasks' summaries stay as they were
        const TaskOptions &t = c.task_opt;
        j["model"] = t.model_dir;
        j["sentence_data"] = t.sentence_data;
        j["target_modules"] = t.target_modules;
        j["layers_to_transform"] = t.layers_to_transform;
        j["no_train_eval"] = t.no_train_eval;
        j["max_seq"] = t.max_seq;
        j["dropout"] = t.dropout;
        j["eval_every"] = t.eval_every;
    }
    return j;
}

nlohmann::json conventions_json(const RunConfig &cfg) {
    nlohmann::json j = nlohmann::json::object();  // what each row of the conventions table of docs/SPEC.md §4 was here
    for (const auto &row : convention_rows()) j[row.option] = convention_value(cfg, row);
    return j;
}

}  // namespace adalora
