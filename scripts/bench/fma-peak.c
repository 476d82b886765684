// FP32 peak of this CPU, measured: independent fused multiply-add chains on the widest vector the
// compiler targets (-O3 -march=native), one pthread per core. Prints "threads GFLOP/s" per line.
// Each chain is a*x+b with a close to 1, so values stay finite; 12 chains cover FMA latency x ports.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vec __attribute__((vector_size(LANES * 4)));
#define CHAINS 12 /* c0..c11 below */
static long iterations;
static volatile float sink;

static void *work(void *arg) {
  (void)arg;
  vec a, b, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
  for (int l = 0; l < LANES; l++) {
    a[l] = 0.9999999f;
    b[l] = 1e-7f;
  }
  c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = c10 = c11 = b * 3.0f;
  c1 += b; c2 += b * 2.0f; c3 -= b; c4 *= 2.0f; c5 *= 3.0f; c6 *= 4.0f; c7 *= 5.0f; c8 *= 6.0f; c9 *= 7.0f; c10 *= 8.0f; c11 *= 9.0f;
  for (long i = 0; i < iterations; i++) {
    // Registers only: an empty asm with the chains as operands keeps the compiler from merging them.
    c0 = c0 * a + b; c1 = c1 * a + b; c2 = c2 * a + b; c3 = c3 * a + b; c4 = c4 * a + b; c5 = c5 * a + b;
    c6 = c6 * a + b; c7 = c7 * a + b; c8 = c8 * a + b; c9 = c9 * a + b; c10 = c10 * a + b; c11 = c11 * a + b;
    __asm__("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
  }
  vec s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  float total = 0;
  for (int l = 0; l < LANES; l++) total += s[l];
  sink = total;
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int maxThreads = argc > 1 ? atoi(argv[1]) : 1;
  iterations = argc > 2 ? atol(argv[2]) : 20000000L;
  int repeats = argc > 3 ? atoi(argv[3]) : 5;
  printf("lanes %d\n", LANES);
  for (int t = 1; t <= maxThreads; t++) {
    double best = 0;
    for (int r = 0; r < repeats; r++) {
      pthread_t th[64];
      double t0 = now();
      for (int k = 0; k < t; k++) pthread_create(&th[k], NULL, work, NULL);
      for (int k = 0; k < t; k++) pthread_join(th[k], NULL);
      double gflops = 2.0 * LANES * CHAINS * (double)iterations * t / (now() - t0) / 1e9;
      if (gflops > best) best = gflops;
    }
    printf("%d %.2f\n", t, best);
  }
  return 0;
}
