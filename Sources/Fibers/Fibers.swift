// Placeholder so the target builds before green threads land.
