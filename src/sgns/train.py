from .errors import SgnsError as SgnsError
TrainResult = train = None
