#include "crypto/CmsSignerInfo.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace otafleet::crypto::cms {

namespace {

using AttributePtr = std::unique_ptr<X509_ATTRIBUTE, ossl::Deleter<X509_ATTRIBUTE_free>>;

Error invalid(const QString& reason) {
    return Error{QStringLiteral("crypto.signature-invalid"), reason};
}

bool isEd25519Key(EVP_PKEY* key) {
    return keyTypeOf(key) == KeyType::Ed25519;
}

QByteArray digestOf(QByteArrayView content, const EVP_MD* md) {
    QByteArray digest(EVP_MAX_MD_SIZE, Qt::Uninitialized);
    unsigned int length = 0;
    if (md == nullptr ||
        EVP_Digest(content.data(), static_cast<size_t>(content.size()),
                   reinterpret_cast<unsigned char*>(digest.data()), &length, md, nullptr) != 1) {
        return {};
    }
    digest.truncate(static_cast<qsizetype>(length));
    return digest;
}

// The content-type attribute names the signed content's type and the message-digest attribute
// holds its digest under the SignerInfo's digest algorithm (RFC 5652 11.1, 11.2).
Status checkSignedAttributes(CMS_ContentInfo* cms, CMS_SignerInfo* info, QByteArrayView content,
                             const EVP_MD* md) {
    // -3: exactly one attribute of that type, holding exactly one value.
    const auto* contentType = static_cast<const ASN1_OBJECT*>(
        CMS_signed_get0_data_by_OBJ(info, OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT));
    const auto* messageDigest = static_cast<const ASN1_OCTET_STRING*>(CMS_signed_get0_data_by_OBJ(
        info, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
    if (contentType == nullptr || messageDigest == nullptr ||
        OBJ_cmp(contentType, CMS_get0_eContentType(cms)) != 0) {
        return fail(
            invalid(QStringLiteral("the content-type or message-digest attribute is "
                                   "missing or wrong")));
    }
    const QByteArray expected = digestOf(content, md);
    if (expected.isEmpty() ||
        QByteArrayView(ASN1_STRING_get0_data(messageDigest), ASN1_STRING_length(messageDigest)) !=
            QByteArrayView(expected)) {
        return fail(invalid(QStringLiteral("message digest mismatch")));
    }
    return {};
}

// DER SET OF ordering (X.690 11.6), as OpenSSL compares: bytes first, then length.
bool derLess(const QByteArray& left, const QByteArray& right) {
    const int order = std::memcmp(left.constData(), right.constData(),
                                  static_cast<size_t>(std::min(left.size(), right.size())));
    return order != 0 ? order < 0 : left.size() < right.size();
}

// What the signature covers: the signed attributes as a universal SET OF, in the order the
// SignerInfo holds them (RFC 5652 5.4). addOwnSigner stores them in DER order, so signing
// and checking encode the same bytes.
QByteArray signedAttributesDer(const CMS_SignerInfo* info) {
    QByteArray elements;
    for (int i = 0; i < CMS_signed_get_attr_count(info); ++i) {
        const QByteArray der = ossl::toDer(i2d_X509_ATTRIBUTE, CMS_signed_get_attr(info, i));
        if (der.isEmpty()) {
            return {};
        }
        elements += der;
    }
    return ossl::derTlv(V_ASN1_SET, elements);
}

bool isAlgorithm(const X509_ALGOR* algorithm, int nid, bool nullParameterAllowed) {
    const ASN1_OBJECT* object = nullptr;
    int parameterType = V_ASN1_UNDEF;
    X509_ALGOR_get0(&object, &parameterType, nullptr, algorithm);
    return object != nullptr && OBJ_obj2nid(object) == nid &&
           (parameterType == V_ASN1_UNDEF ||
            (nullParameterAllowed && parameterType == V_ASN1_NULL));
}

bool isEd25519SignerInfo(CMS_SignerInfo* info) {
    X509* signer = nullptr;
    X509_ALGOR* signatureAlgorithm = nullptr;
    CMS_SignerInfo_get0_algs(info, nullptr, &signer, nullptr, &signatureAlgorithm);
    const ASN1_OBJECT* object = nullptr;
    X509_ALGOR_get0(&object, nullptr, nullptr, signatureAlgorithm);
    return OBJ_obj2nid(object) == NID_ED25519 ||
           (signer != nullptr && isEd25519Key(X509_get0_pubkey(signer)));
}

// RFC 8419 section 3 and RFC 5652 5.6 for one Ed25519 SignerInfo.
Status verifyEd25519(CMS_ContentInfo* cms, CMS_SignerInfo* info, QByteArrayView content) {
    X509* signer = nullptr;
    X509_ALGOR* digestAlgorithm = nullptr;
    X509_ALGOR* signatureAlgorithm = nullptr;
    CMS_SignerInfo_get0_algs(info, nullptr, &signer, &digestAlgorithm, &signatureAlgorithm);
    if (signer == nullptr) {
        return fail(QStringLiteral("crypto.untrusted-signer"),
                    QStringLiteral("no certificate for an Ed25519 SignerInfo"));
    }
    EVP_PKEY* publicKey = X509_get0_pubkey(signer);
    if (!isEd25519Key(publicKey) || !isAlgorithm(signatureAlgorithm, NID_ED25519, false)) {
        return fail(
            invalid(QStringLiteral("the signer's key and the signature algorithm do not "
                                   "both say Ed25519")));
    }
    if (!isAlgorithm(digestAlgorithm, NID_sha512, true)) {
        return fail(invalid(QStringLiteral("an Ed25519 SignerInfo must use SHA-512")));
    }
    if (auto checked = checkSignedAttributes(cms, info, content, EVP_sha512()); !checked) {
        return checked;
    }
    const QByteArray attributes = signedAttributesDer(info);
    const ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(info);
    ossl::EvpMdCtxPtr context(EVP_MD_CTX_new());
    // No digest: pure Ed25519 over the attributes themselves.
    if (attributes.isEmpty() || !context ||
        EVP_DigestVerifyInit_ex(context.get(), nullptr, nullptr, nullptr, nullptr, publicKey,
                                nullptr) != 1 ||
        EVP_DigestVerify(context.get(), ASN1_STRING_get0_data(signature),
                         static_cast<size_t>(ASN1_STRING_length(signature)),
                         reinterpret_cast<const unsigned char*>(attributes.constData()),
                         static_cast<size_t>(attributes.size())) != 1) {
        return fail(invalid(ossl::takeErrors(QStringLiteral("Ed25519 signature failure"))));
    }
    return {};
}

// Takes the SignerInfos OpenSSL's CMS_verify cannot check out of the SignedData for as long
// as it runs, and puts them back (they are owned by the SignedData again) when it goes.
class SetAside {
public:
    explicit SetAside(STACK_OF(CMS_SignerInfo) * infos) : m_infos(infos) {
        for (int i = sk_CMS_SignerInfo_num(infos) - 1; i >= 0; --i) {
            if (isEd25519SignerInfo(sk_CMS_SignerInfo_value(infos, i))) {
                m_taken.push_back(sk_CMS_SignerInfo_delete(infos, i));
            }
        }
    }
    ~SetAside() {
        for (CMS_SignerInfo* info : m_taken) {
            sk_CMS_SignerInfo_push(m_infos, info);
        }
    }
    SetAside(const SetAside&) = delete;
    SetAside& operator=(const SetAside&) = delete;

    [[nodiscard]] const std::vector<CMS_SignerInfo*>& taken() const { return m_taken; }

private:
    STACK_OF(CMS_SignerInfo) * m_infos;
    std::vector<CMS_SignerInfo*> m_taken;
};

}  // namespace

bool signsOwnSignerInfo(const SigningKey& key) {
    return isEd25519Key(key.evpKey()) || !key.openSslCanSign();
}

bool setSignatureAlgorithm(CMS_SignerInfo* info, EVP_PKEY* publicKey) {
    ossl::EvpMdCtxPtr context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* keyContext = nullptr;
    const EVP_MD* digest = ossl::signingDigest(publicKey);
    if (!context || digest == nullptr ||
        EVP_DigestVerifyInit_ex(context.get(), &keyContext, EVP_MD_get0_name(digest), nullptr,
                                nullptr, publicKey, nullptr) != 1 ||
        !ossl::configureSignature(keyContext, publicKey)) {
        return false;
    }
    std::array<unsigned char, 256> der{};
    std::array<OSSL_PARAM, 2> params = {
        OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, der.data(),
                                          der.size()),
        OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_get_params(keyContext, params.data()) != 1 ||
        OSSL_PARAM_modified(params.data()) != 1) {
        return false;
    }
    const unsigned char* cursor = der.data();
    using AlgorithmPtr = std::unique_ptr<X509_ALGOR, ossl::Deleter<X509_ALGOR_free>>;
    const AlgorithmPtr algorithm(
        d2i_X509_ALGOR(nullptr, &cursor, static_cast<long>(params[0].return_size)));
    X509_ALGOR* target = nullptr;
    CMS_SignerInfo_get0_algs(info, nullptr, nullptr, nullptr, &target);
    return algorithm && target != nullptr && X509_ALGOR_copy(target, algorithm.get()) == 1;
}

Status addOwnSigner(CMS_ContentInfo* cms, QByteArrayView content, const SigningKey& key,
                    const Certificate& signer, unsigned int flags) {
    const auto failed = [&key](const QString& fallback) {
        return fail(signingFailed(key.description(), ossl::takeErrors(fallback)));
    };
    const bool ed25519 = isEd25519Key(key.evpKey());
    const EVP_MD* md = ed25519 ? EVP_sha512() : ossl::signingDigest(key.evpKey());
    // Without CMS_KEY_PARAM OpenSSL only records the signer, the key and the digest algorithm;
    // it never tries to sign (which fails for EdDSA and for a public half), so a token key's
    // public half is enough.
    CMS_SignerInfo* info =
        CMS_add1_signer(cms, signer.handle(), key.evpKey(), md, flags & ~CMS_KEY_PARAM);
    X509_ALGOR* signatureAlgorithm = nullptr;
    if (info != nullptr) {
        CMS_SignerInfo_get0_algs(info, nullptr, nullptr, nullptr, &signatureAlgorithm);
    }
    const bool algorithmSet =
        signatureAlgorithm != nullptr &&
        (ed25519 ? X509_ALGOR_set0(signatureAlgorithm, OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF,
                                   nullptr) == 1
                 : setSignatureAlgorithm(info, key.evpKey()));
    if (!algorithmSet) {
        return failed(QStringLiteral("cannot add a SignerInfo"));
    }
    using TimePtr = std::unique_ptr<ASN1_TIME, ossl::Deleter<ASN1_TIME_free>>;
    const TimePtr now(X509_gmtime_adj(nullptr, 0));
    const QByteArray digest = digestOf(content, md);
    std::vector<AttributePtr> attributes;
    attributes.emplace_back(
        X509_ATTRIBUTE_create(NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data)));
    if (now) {
        ASN1_TIME* signingTime = ASN1_STRING_dup(now.get());
        attributes.emplace_back(
            X509_ATTRIBUTE_create(NID_pkcs9_signingTime, ASN1_STRING_type(now.get()), signingTime));
        if (!attributes.back()) {
            ASN1_STRING_free(signingTime);
        }
    }
    ASN1_OCTET_STRING* digestValue = ASN1_OCTET_STRING_new();
    if (digestValue == nullptr || digest.isEmpty() ||
        ASN1_OCTET_STRING_set(digestValue,
                              reinterpret_cast<const unsigned char*>(digest.constData()),
                              static_cast<int>(digest.size())) != 1) {
        ASN1_OCTET_STRING_free(digestValue);
        return failed(QStringLiteral("cannot hash the content"));
    }
    attributes.emplace_back(
        X509_ATTRIBUTE_create(NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digestValue));
    if (!attributes.back()) {
        ASN1_OCTET_STRING_free(digestValue);
    }
    // The SignerInfo keeps its attributes in the order they are added and the signature covers
    // exactly that encoding, so add them in DER SET OF order.
    std::vector<std::pair<QByteArray, X509_ATTRIBUTE*>> ordered;
    for (const AttributePtr& attribute : attributes) {
        if (!attribute) {
            return failed(QStringLiteral("cannot build the signed attributes"));
        }
        ordered.emplace_back(ossl::toDer(i2d_X509_ATTRIBUTE, attribute.get()), attribute.get());
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& left, const auto& right) { return derLess(left.first, right.first); });
    for (const auto& [der, attribute] : ordered) {
        if (der.isEmpty() || CMS_signed_add1_attr(info, attribute) != 1) {
            return failed(QStringLiteral("cannot add the signed attributes"));
        }
    }
    auto signature = key.sign(signedAttributesDer(info));
    if (!signature) {
        return fail(signature.error());
    }
    if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(info), signature->constData(),
                        static_cast<int>(signature->size())) != 1) {
        return failed(QStringLiteral("cannot store the signature"));
    }
    // A token that signs wrongly must not produce a release no device accepts.
    Status checked;
    if (ed25519) {
        checked = verifyEd25519(cms, info, content);
    } else if (CMS_SignerInfo_verify(info) == 1) {
        checked = checkSignedAttributes(cms, info, content, md);
    } else {
        checked = fail(invalid(ossl::takeErrors()));
    }
    if (!checked) {
        return fail(signingFailed(key.description(), checked.error().message));
    }
    return {};
}

Status verifySignatures(CMS_ContentInfo* cms, QByteArrayView content, STACK_OF(X509) * extraCerts) {
    // Returns how many signers it found; missing ones are reported per SignerInfo below.
    CMS_set1_signers_certs(cms, extraCerts, 0);
    ossl::clearErrors();
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    const SetAside ed25519(infos);
    if (sk_CMS_SignerInfo_num(infos) > 0) {
        // A buffering BIO in front of the memory BIO: given a bare memory BIO, OpenSSL 3.0's
        // CMS_verify copies the content and leaks the copy when the signature names an unknown
        // digest (found by fuzz_cms; corpus/cms/regression-unknown-digest-leak.der).
        ossl::BioPtr contentBio(
            BIO_push(BIO_new(BIO_f_buffer()), ossl::readBio(content).release()));
        if (CMS_verify(cms, extraCerts, nullptr, contentBio.get(), nullptr,
                       CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
            const unsigned long code = ERR_peek_last_error();
            const QString detail = ossl::takeErrors();
            if (ERR_GET_LIB(code) == ERR_LIB_CMS &&
                ERR_GET_REASON(code) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
                return fail(QStringLiteral("crypto.untrusted-signer"), detail);
            }
            return fail(invalid(detail));
        }
    }
    for (CMS_SignerInfo* info : ed25519.taken()) {
        if (auto checked = verifyEd25519(cms, info, content); !checked) {
            return checked;
        }
    }
    return {};
}

}  // namespace otafleet::crypto::cms
