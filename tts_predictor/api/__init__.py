"""HTTP-level adapters added to kserve's FastAPI app (InferenceGraph data contract)."""
