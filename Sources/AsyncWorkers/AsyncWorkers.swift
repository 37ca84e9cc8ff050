// Placeholder so the target builds before the async executor lands.
