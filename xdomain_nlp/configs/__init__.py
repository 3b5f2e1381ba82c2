"""One typed config per recipe. Its defaults equal the recipe's shipped YAML (a test holds them
together); the YAML is where values are tuned and commented, this is where they are checked."""

from xdomain_nlp.configs.adapt_encoder_mlm import AdaptEncoderMLMConfig
from xdomain_nlp.configs.aspect_terms import AspectTermsConfig
from xdomain_nlp.configs.bias_correction import BiasCorrectionConfig
from xdomain_nlp.configs.custom_tagset import CustomTagsetConfig
from xdomain_nlp.configs.parser_ewt import ParserConfig
from xdomain_nlp.configs.pos_en_de import POSTransferConfig
from xdomain_nlp.configs.self_training import SelfTrainingConfig
from xdomain_nlp.configs.sentiment_blitzer import SentimentBlitzerConfig
from xdomain_nlp.configs.sentiment_food_to_movie import SentimentTransferConfig

# recipe file stem -> (its config, its primary YAML under recipes/configs/)
RECIPES = {
    "adapt_encoder_mlm": (AdaptEncoderMLMConfig, "adapt_encoder_mlm_food_movie.yaml"),
    "aspect_terms": (AspectTermsConfig, "aspect_terms_semeval14.yaml"),
    "bias_correction": (BiasCorrectionConfig, "bias_correction_food_movie.yaml"),
    "custom_tagset": (CustomTagsetConfig, "custom_tagset_stts.yaml"),
    "parser_ewt": (ParserConfig, "parser_ewt.yaml"),
    "pos_en_de": (POSTransferConfig, "pos_en_de.yaml"),
    "self_training": (SelfTrainingConfig, "self_training_de.yaml"),
    "sentiment_blitzer": (SentimentBlitzerConfig, "sentiment_blitzer.yaml"),
    "sentiment_food_to_movie": (SentimentTransferConfig, "sentiment_food_to_movie.yaml"),
}

__all__ = [
    "RECIPES",
    "AdaptEncoderMLMConfig",
    "AspectTermsConfig",
    "BiasCorrectionConfig",
    "CustomTagsetConfig",
    "POSTransferConfig",
    "ParserConfig",
    "SelfTrainingConfig",
    "SentimentBlitzerConfig",
    "SentimentTransferConfig",
]
