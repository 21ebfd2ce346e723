import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';
import { nestedTypeOf, type DtoClass } from '../../magic-hour/dto/validation.js';

/** A fast yes/no check of a plain object against a DTO class's class-validator rules. */
export type CompiledCheck = (value: unknown) => boolean;

interface PropertyRule {
  property: string;
  conditions: Array<(object: object, value: unknown) => boolean>;
  constraints: Array<{
    validate: (value: unknown, args: ValidationArguments) => unknown;
    each: boolean;
    /** Handed to `validate`; made once and refilled per call, so that a check allocates nothing. */
    args: ValidationArguments;
  }>;
  nested?: { each: boolean; check: () => CompiledCheck };
}

const compiled = new Map<DtoClass, CompiledCheck>();

/**
 * Compiles the class-validator rules of a DTO class (and of the nested DTOs it declares) into one
 * function, once, so that the hot path skips class-transformer's copy and class-validator's executor.
 * It calls the very same constraint functions the decorators registered, so it accepts exactly what
 * they accept; it only answers yes or no. Use `validateSync` for the messages when it says no.
 */
export function compileValidator(cls: DtoClass): CompiledCheck {
  const existing = compiled.get(cls);
  if (existing) return existing;
  const storage = getMetadataStorage();
  const byProperty = new Map<string, PropertyRule>();
  const rule = (property: string) => {
    if (!byProperty.has(property)) byProperty.set(property, { property, conditions: [], constraints: [] });
    return byProperty.get(property)!;
  };
  for (const metadata of storage.getTargetValidationMetadatas(cls, '', true, false)) {
    const target = rule(metadata.propertyName);
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      target.conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      if (metadata.validateIf) throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} uses validateIf`);
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} is async`);
        target.constraints.push({
          validate: constraint.instance.validate.bind(constraint.instance),
          each: metadata.each,
          args: { targetName: cls.name, property: metadata.propertyName, object: {}, value: undefined, constraints: metadata.constraints },
        });
      }
    } else if (metadata.type === ValidationTypes.NESTED_VALIDATION) {
      const type = nestedTypeOf(cls, metadata.propertyName);
      if (!type) throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} declares no nested type`);
      target.nested = { each: metadata.each, check: () => compileValidator(type) };
    } else {
      throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} uses unsupported ${metadata.type}`);
    }
  }
  const rules = [...byProperty.values()];

  // Intake runs this on every delivery: plain loops and reused arguments, so that it allocates
  // nothing (fewer young-generation collections, which show up in intake's tail latency).
  const check: CompiledCheck = (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const object = value as Record<string, unknown>;
    for (let r = 0; r < rules.length; r++) {
      const { property, conditions, constraints, nested } = rules[r];
      const field = object[property];
      let applies = true;
      for (let c = 0; c < conditions.length && applies; c++) applies = conditions[c](object, field);
      if (!applies) continue;
      for (let c = 0; c < constraints.length; c++) {
        const { validate, each, args } = constraints[c];
        args.object = object;
        args.value = field;
        if (each && Array.isArray(field)) {
          for (let i = 0; i < field.length; i++) if (validate(field[i], args) !== true) return false;
        } else if (validate(field, args) !== true) {
          return false;
        }
      }
      if (nested && field !== undefined) {
        const inner = nested.check();
        if (Array.isArray(field)) {
          for (let i = 0; i < field.length; i++) if (!inner(field[i])) return false;
        } else if (!inner(field)) {
          return false;
        }
      }
    }
    return true;
  };
  compiled.set(cls, check);
  return check;
}
