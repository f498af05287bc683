"""Model backends that write the next suggestion: an OpenAI-compatible endpoint, or the local model
(the embedded default or any Hugging Face model, plus the promoted adapter) in a worker process."""
