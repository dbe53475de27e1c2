"""Stage 2: the SRGAN game. Between the ``lesson`` markers: the text notebook 06 shows (a test compares them), the
TensorFlow step; :func:`srgan_step_jax` is the same update for JAX (Keras' JAX guide), kept equal by a parity test."""

from __future__ import annotations

import keras
from keras import ops

try:  # the lesson's step; the JAX twin runs where TensorFlow is not installed
    import tensorflow as tf
except ImportError:
    tf = None

# --- lesson srgan-step: notebook 06 shows this text verbatim ---
bce = keras.losses.BinaryCrossentropy(from_logits=True)


def adversarial_losses(real_logits, fake_logits):
    """D learns to call HR real (1) and generated fake (0); G learns to make D call its images real."""
    real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
    d_loss = bce(ops.ones_like(real_logits), real_logits) + bce(ops.zeros_like(fake_logits), fake_logits)
    g_adv_loss = bce(ops.ones_like(fake_logits), fake_logits)
    return d_loss, g_adv_loss


def srgan_step(lr, hr, generator, discriminator, content_loss, g_optimizer, d_optimizer,
               adv_weight=1e-3, scale_loss=lambda optimizer, loss: optimizer.scale_loss(loss)):
    """One SRGAN update: both networks see the same batch; each steps down its own loss.
    ``scale_loss``: float16 loss scaling by a LossScaleOptimizer (other optimizers return the loss as is)."""
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        sr = generator(lr, training=True)
        real_logits = discriminator(hr, training=True)
        fake_logits = discriminator(sr, training=True)
        d_loss, adv_loss = adversarial_losses(real_logits, fake_logits)
        content = content_loss(hr, sr)
        g_loss = content + adv_weight * adv_loss  # the paper's perceptual loss
        g_scaled, d_scaled = scale_loss(g_optimizer, g_loss), scale_loss(d_optimizer, d_loss)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_scaled, g_vars), g_vars))
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_scaled, d_vars), d_vars))
    return dict(g_loss=g_loss, d_loss=d_loss, content_loss=content, adv_loss=adv_loss,
                d_real_accuracy=ops.mean(ops.cast(real_logits > 0, "float32")),
                d_fake_accuracy=ops.mean(ops.cast(fake_logits < 0, "float32")))


def control_step(lr, hr, generator, content_loss, optimizer):
    """The control of an SRGAN run: :func:`srgan_step` with ``adv_weight = 0``. The adversarial term then
    adds exactly zero to G's gradient, and a discriminator nobody reads can be left out."""
    with tf.GradientTape() as tape:
        content = content_loss(hr, generator(lr, training=True))
        scaled = optimizer.scale_loss(content)
    optimizer.apply_gradients(zip(tape.gradient(scaled, generator.trainable_variables), generator.trainable_variables))
    return dict(content_loss=content)
# --- end of lesson srgan-step ---


def srgan_step_jax(state, lr, hr, generator, discriminator, content_loss, g_optimizer, d_optimizer,
                   adv_weight=1e-3):
    """:func:`srgan_step` for JAX: ``state`` (G's and D's variables, both optimizers') -> ``(logs, new state)``. One
    forward pass; ``jax.vjp`` pulls G's loss back to G and D's to D (the lesson's two tapes)."""
    import jax
    import jax.numpy as jnp

    g_train, g_rest, d_train, d_rest, g_opt_vars, d_opt_vars = state
    optimizer_state = list(zip(g_optimizer.variables, g_opt_vars)) + list(zip(d_optimizer.variables, d_opt_vars))

    def losses(g_train, d_train):
        sr, g_rest_new = generator.stateless_call(g_train, g_rest, lr, training=True)
        real_logits, d_rest_new = discriminator.stateless_call(d_train, d_rest, hr, training=True)
        fake_logits, d_rest_new = discriminator.stateless_call(d_train, d_rest_new, sr, training=True)
        d_loss, adv_loss = adversarial_losses(real_logits, fake_logits)
        content = content_loss(hr, sr)
        g_loss = content + adv_weight * adv_loss
        with keras.StatelessScope(state_mapping=optimizer_state):  # as Keras' own JAX trainer scales its loss
            scaled = (g_optimizer.scale_loss(g_loss), d_optimizer.scale_loss(d_loss))
        logs = dict(g_loss=g_loss, d_loss=d_loss, content_loss=content, adv_loss=adv_loss,
                    d_real_accuracy=jnp.mean((real_logits > 0).astype("float32")),
                    d_fake_accuracy=jnp.mean((fake_logits < 0).astype("float32")))
        return scaled, (logs, g_rest_new, d_rest_new)

    scaled, pull_back, (logs, g_rest, d_rest) = jax.vjp(losses, g_train, d_train, has_aux=True)
    one, zero = jnp.ones_like(scaled[0]), jnp.zeros_like(scaled[0])
    g_grads = pull_back((one, zero))[0]  # d g_loss / d G: the lesson's g_tape
    d_grads = pull_back((zero, one))[1]  # d d_loss / d D: the lesson's d_tape
    g_train, g_opt_vars = g_optimizer.stateless_apply(g_opt_vars, g_grads, g_train)
    d_train, d_opt_vars = d_optimizer.stateless_apply(d_opt_vars, d_grads, d_train)
    return logs, (g_train, g_rest, d_train, d_rest, g_opt_vars, d_opt_vars)


def control_step_jax(state, lr, hr, generator, content_loss, optimizer):
    """:func:`control_step` for JAX; ``state`` = (G trainable, G non-trainable, optimizer variables)."""
    import jax

    g_train, g_rest, opt_vars = state

    def loss(g_train):
        sr, g_rest_new = generator.stateless_call(g_train, g_rest, lr, training=True)
        content = content_loss(hr, sr)
        with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, opt_vars))):
            return optimizer.scale_loss(content), (content, g_rest_new)

    (_, (content, g_rest)), grads = jax.value_and_grad(loss, has_aux=True)(g_train)
    g_train, opt_vars = optimizer.stateless_apply(opt_vars, grads, g_train)
    return dict(content_loss=content), (g_train, g_rest, opt_vars)


def _step_function(tf_step, jax_step, models, optimizers, jit_compile) -> callable:
    """``tf_step`` as a ``tf.function``, or ``jax_step`` jitted, its new state written back (saving, EMA, resume)."""
    for model, optimizer in zip(models, optimizers):
        optimizer.build(model.trainable_variables)
    if keras.backend.backend() == "tensorflow":
        return tf.function(tf_step, jit_compile=jit_compile)
    import jax

    groups = [group for model in models for group in (model.trainable_variables, model.non_trainable_variables)]
    groups += [optimizer.variables for optimizer in optimizers]
    compiled = jax.jit(jax_step)

    def step(lr, hr):
        logs, state = compiled(tuple([v.value for v in group] for group in groups), lr, hr)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return logs

    return step


def control_step_function(generator, content_loss, optimizer, jit_compile=False):
    """``step(lr, hr) -> logs``: one :func:`control_step` on the running backend."""
    return _step_function(lambda lr, hr: control_step(lr, hr, generator, content_loss, optimizer),
                          lambda state, lr, hr: control_step_jax(state, lr, hr, generator, content_loss, optimizer),
                          [generator], [optimizer], jit_compile)


def gan_step_function(generator, discriminator, content_loss, g_optimizer, d_optimizer, adv_weight=1e-3,
                      jit_compile=False):
    """``step(lr, hr) -> logs``: one SRGAN update on the running backend (the lesson's step, or its JAX twin)."""
    return _step_function(
        lambda lr, hr: srgan_step(lr, hr, generator, discriminator, content_loss, g_optimizer, d_optimizer, adv_weight),
        lambda state, lr, hr: srgan_step_jax(state, lr, hr, generator, discriminator, content_loss, g_optimizer,
                                             d_optimizer, adv_weight),
        [generator, discriminator], [g_optimizer, d_optimizer], jit_compile)


class SRGAN(keras.Model):
    """Stage 2 for ``fit`` (callbacks, resume, ``tf.distribute``): ``train_step`` is the lesson's :func:`srgan_step`,
    with losses divided by the replicas (gradients summed across devices are the global-batch mean)."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, content_loss, adv_weight: float = 1e-3):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.content, self.adv_weight = content_loss, adv_weight
        self.built = True  # its parts are built functional models: nothing left to infer from data

    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer, **kwargs):
        # Built now, so BackupAndRestore restores Adam's moments and the EMA into them.
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in
                         ("g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy", "d_fake_accuracy")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def train_step(self, data):
        lr, hr = data
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        values = srgan_step(lr, hr, self.generator, self.discriminator, self.content, self.g_optimizer,
                            self.d_optimizer, self.adv_weight, lambda opt, loss: opt.scale_loss(loss / replicas))
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
