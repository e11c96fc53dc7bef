#!/usr/bin/env python3
"""Searches never asked before, one at a time, against a running `egovkb serve`:
the time of a first ask in hybrid mode (the query embedded, the graph walked),
of the same asked again (both kept), and by words (`mode=lexical`).

    python3 eval/first_ask.py [http://127.0.0.1:18500]

The queries are not the load bench's; ask them of a server started afresh.
"""
import statistics, sys, time, urllib.parse, urllib.request

QUERIES = """how citizens obtain certificates online without visiting an office
seguridad de la información en los ministerios
land ownership records kept by the state
registro de la propiedad inmueble digital
training course for officials from Latin America
curso de capacitación para funcionarios públicos
electronic voting pilot results
votación electrónica en municipios
public servants sign documents with certificates
firma de documentos con certificado
archive of presidential records preservation
preservación de archivos presidenciales
disaster alerts sent to mobile phones
alertas de desastres por teléfono móvil
tax payment through a single portal
pago de impuestos en un portal único
hospital records exchanged between clinics
historias clínicas compartidas entre hospitales
customs clearance without paper
despacho aduanero sin papel
행정 서비스 온라인 신청 방법
공무원 교육 과정 운영 결과
토지 소유권 기록 관리
재난 문자 발송 체계
전자 투표 시범 사업
open government data portal usage
portal de datos abiertos del gobierno
smart city traffic sensors
sensores de tráfico en ciudades inteligentes
interoperability between agencies databases
interoperabilidad entre bases de datos de agencias
mobile app for government services
aplicación móvil para trámites
cooperation agreement with Korea signed
acuerdo de cooperación firmado con Corea
cyber attack response center
centro de respuesta a incidentes cibernéticos
birth registration in rural areas
inscripción de nacimientos en zonas rurales
procurement fraud detection system""".splitlines()
base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18500"
def ms(q, mode):
    url = f"{base}/api/search?q={urllib.parse.quote(q)}&mode={mode}"
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        r.read()
    return (time.perf_counter() - t) * 1000
first, again, lexical = [], [], []
for q in QUERIES:
    first.append(ms(q, "hybrid"))
    again.append(ms(q, "hybrid"))
    lexical.append(ms(q, "lexical"))
def show(name, v):
    v = sorted(v)
    print(f"{name}: median {statistics.median(v):.1f} ms, p90 {v[int(len(v)*0.9)]:.1f} ms")
print(f"{len(QUERIES)} queries never asked before")
show("hybrid, first ask", first)
show("hybrid, asked again", again)
show("lexical", lexical)
