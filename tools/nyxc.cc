// Filled in by the driver work.
int main() { return 0; }
