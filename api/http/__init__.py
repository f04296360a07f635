"""The HTTP face: the FastAPI app, its routes, schemas, dashboard pages and feeds out. It only reads the store (and hands WebSub pushes on)."""
