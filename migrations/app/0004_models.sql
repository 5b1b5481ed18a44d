-- AI model configurations (the report's "AI模型管理"). Keys are never here:
-- they live in the OS keychain.
CREATE TABLE ai_models (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    -- 'dashscope' (native) or 'openai' (any OpenAI-compatible endpoint).
    provider    TEXT NOT NULL CHECK (provider IN ('dashscope', 'openai')),
    model_id    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('text', 'vision', 'image', 'video')),
    -- NULL: the region's default endpoint.
    base_url    TEXT,
    params_json TEXT NOT NULL DEFAULT '{}',
    is_active   INTEGER NOT NULL DEFAULT 0,
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (provider, model_id, kind)
);
-- One active model per kind.
CREATE UNIQUE INDEX ai_models_one_active ON ai_models(kind) WHERE is_active = 1;

INSERT INTO ai_models (name, provider, model_id, kind, is_active, builtin, created_at_ms) VALUES
    ('通义千问 Turbo', 'dashscope', 'qwen-turbo', 'text', 0, 1, 0),
    ('通义千问 Plus', 'dashscope', 'qwen-plus', 'text', 1, 1, 0),
    ('通义千问 Max', 'dashscope', 'qwen-max', 'text', 0, 1, 0),
    ('通义千问 VL Plus', 'dashscope', 'qwen-vl-plus', 'vision', 1, 1, 0),
    ('通义万相 文生图', 'dashscope', 'wanx2.1-t2i-turbo', 'image', 1, 1, 0),
    ('通义万相 文生视频', 'dashscope', 'wanx2.1-t2v-turbo', 'video', 1, 1, 0);
