/* Fills digits_compiled_model from the header nyxc generated for one model.
 * Compile once per model, naming it in lower and upper case:
 *
 *   cc -c model.c -DMODEL=mlp -DMODEL_UPPER=MLP -DMODEL_HEADER='"mlp.h"'
 */
#include "digits_model.h"

#include <nyx/runtime.h>

#include MODEL_HEADER

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define STRING_(a) #a
#define STRING(a) STRING_(a)
#define FUNCTION(suffix) PASTE(MODEL, suffix)
#define CONSTANT(suffix) PASTE(MODEL_UPPER, suffix)

static const size_t kParamBytes[] = CONSTANT(_PARAM_BYTES);
static const char *const kParamNames[] = CONSTANT(_PARAM_NAMES);
static const int kParamRanks[] = CONSTANT(_PARAM_RANKS);
static const int64_t kParamShapes[][DIGITS_MAX_RANK] = CONSTANT(_PARAM_SHAPES);
static const int64_t kXShape[] = CONSTANT(_INPUT_X_SHAPE);
static const size_t kRunBufferBytes[] = CONSTANT(_BUFFER_BYTES);
static const size_t kTrainBufferBytes[] = CONSTANT(_TRAIN_BUFFER_BYTES);

_Static_assert(sizeof kParamBytes / sizeof kParamBytes[0] ==
                   CONSTANT(_NUM_PARAMS),
               "<NAME>_PARAM_BYTES has one entry per parameter");
_Static_assert(sizeof kRunBufferBytes / sizeof kRunBufferBytes[0] ==
                   CONSTANT(_NUM_BUFFERS),
               "<NAME>_BUFFER_BYTES has one entry per buffer");
_Static_assert(sizeof kTrainBufferBytes / sizeof kTrainBufferBytes[0] ==
                   CONSTANT(_TRAIN_NUM_BUFFERS),
               "<NAME>_TRAIN_BUFFER_BYTES has one entry per buffer");

const digits_model digits_compiled_model = {
    .name = STRING(MODEL),
    .num_params = CONSTANT(_NUM_PARAMS),
    .param_bytes = kParamBytes,
    .param_names = kParamNames,
    .param_ranks = kParamRanks,
    .param_shapes = kParamShapes,
    .x_rank = CONSTANT(_INPUT_X_RANK),
    .x_shape = kXShape,
    .train_num_buffers = CONSTANT(_TRAIN_NUM_BUFFERS),
    .train_buffer_bytes = kTrainBufferBytes,
    .run_num_buffers = CONSTANT(_NUM_BUFFERS),
    .run_buffer_bytes = kRunBufferBytes,
    .arena_bytes = CONSTANT(_ARENA_BYTES),
    .train_arena_bytes = CONSTANT(_TRAIN_ARENA_BYTES),
    /* One alignment for everything: the larger of the forward pass's and
     * the training step's. */
    .align = CONSTANT(_ALIGN) > CONSTANT(_TRAIN_ALIGN) ? CONSTANT(_ALIGN)
                                                       : CONSTANT(_TRAIN_ALIGN),
    .init_params_packed = FUNCTION(_init_params_packed),
    .run_packed = FUNCTION(_run_packed),
    .train_step_packed = FUNCTION(_train_step_packed),
};
