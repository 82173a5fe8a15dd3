"""tfdash: a terminal dashboard for TensorFlow training in remote containers."""

__version__ = "0.1.0"
